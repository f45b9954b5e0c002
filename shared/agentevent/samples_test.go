package agentevent_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/omnibridge/omnibridge/shared/agentevent"
	"github.com/omnibridge/omnibridge/shared/apperr"
)

// update rewrites events/agent-events from testdata: go test ./shared/agentevent -run TestKinesisSamples -update
var update = flag.Bool("update", false, "rewrite the Kinesis sample envelopes in events/agent-events")

const samplesDir = "../../events/agent-events"

// malformedData is the payload of the poison record in batch-mixed.json: a truncated record,
// as a producer bug or a partial write would leave it.
const malformedData = `{"AWSAccountId":"012345678901","AgentARN":"arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/7a9b1c3d-5e6f-4a8b-9c0d-2e4f6a8b0c22","EventType":"STATE_CH`

// kinesisSamples maps each envelope in events/agent-events to the raw records it carries, in
// order; "" stands for the malformed record.
var kinesisSamples = []struct {
	file    string
	records []string
}{
	{file: "state-change-acw.json", records: []string{"connect-agent-event-acw.json"}},
	{file: "login.json", records: []string{"login.json"}},
	{file: "logout.json", records: []string{"logout.json"}},
	{file: "heartbeat.json", records: []string{"heartbeat.json"}},
	{file: "state-change-available-to-lunch.json", records: []string{"state-change-available-to-lunch.json"}},
	{file: "inbound-call-connected.json", records: []string{"inbound-call-connected.json"}},
	{file: "batch-mixed.json", records: []string{
		"state-change-offline-to-available.json",
		"inbound-call-connected.json",
		"",
		"state-change-next-status-on-chat.json",
		"connect-agent-event-acw.json",
		"state-change-available-to-lunch.json",
	}},
}

// buildEnvelope wraps raw records the way Lambda delivers a Kinesis batch: data is the compact
// record (base64 in JSON), the partition key is the agent ARN (Connect's choice) and sequence
// numbers grow within the shard.
func buildEnvelope(t *testing.T, records []string, firstSeq int64) events.KinesisEvent {
	t.Helper()
	base, _ := new(big.Int).SetString("49650383517124867512047236493827145810473201573961760770", 10)
	var out events.KinesisEvent
	for i, name := range records {
		data := []byte(malformedData)
		partitionKey := "arn:aws:connect:us-east-1:012345678901:instance/aaaaaaaa-bbbb-cccc-dddd-111111111111/agent/7a9b1c3d-5e6f-4a8b-9c0d-2e4f6a8b0c22"
		arrival := time.Date(2024, 3, 11, 14, 20, 34, 0, time.UTC)
		if name != "" {
			var compact bytes.Buffer
			if err := json.Compact(&compact, readTestdata(t, name)); err != nil {
				t.Fatal(err)
			}
			data = compact.Bytes()
			ev, err := agentevent.Decode(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			partitionKey = ev.AgentARN
			arrival = ev.EventTimestamp.Add(412 * time.Millisecond)
		}
		seq := new(big.Int).Add(base, big.NewInt((firstSeq+int64(i))*1_000_000_000_000)).String()
		out.Records = append(out.Records, events.KinesisEventRecord{
			AwsRegion:         "us-east-1",
			EventID:           "shardId-000000000000:" + seq,
			EventName:         "aws:kinesis:record",
			EventSource:       "aws:kinesis",
			EventSourceArn:    "arn:aws:kinesis:us-east-1:012345678901:stream/omnibridge-agent-events",
			EventVersion:      "1.0",
			InvokeIdentityArn: "arn:aws:iam::012345678901:role/omnibridge-agent-events",
			Kinesis: events.KinesisRecord{
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: arrival},
				Data:                        data,
				PartitionKey:                partitionKey,
				SequenceNumber:              seq,
				KinesisSchemaVersion:        "1.0",
			},
		})
	}
	return out
}

// TestKinesisSamples keeps events/agent-events in step with testdata and checks that every
// record in them decodes, except the one deliberately malformed record of batch-mixed.json.
func TestKinesisSamples(t *testing.T) {
	for i, s := range kinesisSamples {
		t.Run(strings.TrimSuffix(s.file, ".json"), func(t *testing.T) {
			path := filepath.Join(samplesDir, s.file)
			want, err := json.MarshalIndent(buildEnvelope(t, s.records, int64(i*10)), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			if *update {
				if err := os.WriteFile(path, want, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("%s is out of date with testdata; run go test ./shared/agentevent -run TestKinesisSamples -update", path)
			}
			var env events.KinesisEvent
			if err := json.Unmarshal(got, &env); err != nil {
				t.Fatal(err)
			}
			if len(env.Records) != len(s.records) {
				t.Fatalf("%d records, want %d", len(env.Records), len(s.records))
			}
			for j, r := range env.Records {
				ev, err := agentevent.Decode(r.Kinesis.Data)
				if s.records[j] == "" {
					if !apperr.Is(err, apperr.Invalid) {
						t.Errorf("record %d: malformed record decoded with err %v", j, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("record %d: %v", j, err)
					continue
				}
				if ev.AgentARN != r.Kinesis.PartitionKey {
					t.Errorf("record %d: partition key %q is not the agent ARN %q", j, r.Kinesis.PartitionKey, ev.AgentARN)
				}
			}
		})
	}
}
