package dynamo

import (
	"strconv"
	"time"
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

// sortableLayout is sortableTime's fixed-width layout.
const sortableLayout = "2006-01-02T15:04:05.000000000Z"
