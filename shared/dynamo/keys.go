package dynamo

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/omnibridge/omnibridge/shared/eventtime"
)

// Key addresses one item.
type Key struct {
	PK string
	SK string
}

// Partition and sort keys. Each kind of item has its own pk prefix so kinds never collide.
const (
	configPK      = "CONFIG"
	configCurrent = "CURRENT"
	idemPrefix    = "IDEM#"
	auditPrefix   = "AUDIT#"
)

func configHistorySK(version int64) string { return "V#" + pad(version) }

// pad renders a non-negative number with fixed width so string order equals numeric order.
func pad(n int64) string {
	s := strconv.FormatInt(n, 10)
	const width = 19
	if len(s) >= width {
		return s
	}
	return "0000000000000000000"[:width-len(s)] + s
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// sortableTime renders t in UTC with fixed width, so string order equals time order.
func sortableTime(t time.Time) string {
	return t.UTC().Format(sortableLayout)
}

// notOlder is eventtime.Bound.NotOlder as a condition on the stored time attribute attr (in
// sortableTime form): an item at t may replace it when it is not after t, or when it is dated
// beyond b and so no longer counts.
func notOlder(attr string, t time.Time, b eventtime.Bound) expression.ConditionBuilder {
	return expression.Name(attr).LessThanEqual(expression.Value(sortableTime(t))).
		Or(expression.Name(attr).GreaterThan(expression.Value(sortableTime(b.Latest()))))
}

// sortableLayout is sortableTime's fixed-width layout.
const sortableLayout = "2006-01-02T15:04:05.000000000Z"
