// Drive Filebeat's real Elasticsearch output client (libbeat v7.17.28, the code Filebeat
// itself runs: connect = GET / for the version, then _bulk with its own encoding, gzip and
// auth, and its own per-item decision acked / dropped / retried) against a server.
//
// Usage: fbdrive URL USER PASSWORD API_KEY INDEX MARKER COUNT GZIP_LEVEL
// Prints {"signals": [...], "retry_events": n, "acked": n, "dropped": n, "failed": n}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/elastic/beats/v7/libbeat/beat"
	"github.com/elastic/beats/v7/libbeat/common"
	"github.com/elastic/beats/v7/libbeat/esleg/eslegclient"
	"github.com/elastic/beats/v7/libbeat/outputs"
	"github.com/elastic/beats/v7/libbeat/outputs/elasticsearch"
	"github.com/elastic/beats/v7/libbeat/outputs/outest"
)

type constIndex string

// counts is Filebeat's output observer (the numbers it reports as acked/dropped/failed).
type counts struct {
	outputs.Observer
	acked, dropped, failed int
}

func (c *counts) Acked(n int)   { c.acked += n }
func (c *counts) Dropped(n int) { c.dropped += n }
func (c *counts) Failed(n int)  { c.failed += n }

func (c constIndex) Select(*beat.Event) (string, error) { return string(c), nil }

func main() {
	url, user, pass, apiKey, index, marker := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	n, _ := strconv.Atoi(os.Args[7])
	level, _ := strconv.Atoi(os.Args[8])
	stats := &counts{Observer: outputs.NewNilObserver()}
	client, err := elasticsearch.NewClient(elasticsearch.ClientSettings{
		ConnectionSettings: eslegclient.ConnectionSettings{
			URL: url, Username: user, Password: pass, APIKey: apiKey, CompressionLevel: level,
			Beatname: "filebeat",
		},
		Index:    constIndex(index),
		Observer: stats,
	}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "new client:", err)
		os.Exit(2)
	}
	if err := client.Connect(); err != nil {
		fmt.Fprintln(os.Stderr, "connect:", err)
		os.Exit(3)
	}
	events := make([]beat.Event, n)
	for i := range events {
		events[i] = beat.Event{Timestamp: time.Unix(1764410400+int64(i), 0).UTC(),
			Fields: common.MapStr{"message": fmt.Sprintf("%s %d", marker, i), "host": common.MapStr{"name": "fb-real"}}}
	}
	batch := outest.NewBatch(events...)
	pubErr := client.Publish(context.Background(), batch)
	out := map[string]interface{}{"retry_events": 0}
	sigs := []string{}
	for _, s := range batch.Signals {
		name := map[outest.BatchSignalTag]string{outest.BatchACK: "ack", outest.BatchDrop: "drop", outest.BatchRetry: "retry",
			outest.BatchRetryEvents: "retry_events", outest.BatchCancelled: "cancelled", outest.BatchCancelledEvents: "cancelled_events"}[s.Tag]
		sigs = append(sigs, name)
		if s.Tag == outest.BatchRetryEvents {
			out["retry_events"] = len(s.Events)
		}
	}
	out["signals"] = sigs
	out["acked"], out["dropped"], out["failed"] = stats.acked, stats.dropped, stats.failed
	if pubErr != nil {
		out["error"] = pubErr.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
