// Drive the OpenTelemetry Collector's elasticsearch exporter (contrib v0.115.0: the official
// go-elasticsearch client with its product check, and go-docappender's bulk indexer with its
// own filter_path and per-document error handling) against a server, synchronously.
//
// Usage: otelesdrive ENDPOINT USER PASSWORD API_KEY INDEX MARKER COUNT
// Prints {"consume_error": "", "failed_docs": n, "flush_errors": n, "sent": n}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"go.opentelemetry.io/collector/component/componenttest"
	"go.opentelemetry.io/collector/config/configopaque"
	"go.opentelemetry.io/collector/exporter/exportertest"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/elasticsearchexporter"
)

func main() {
	endpoint, user, password, apiKey, index, marker := os.Args[1], os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6]
	n, _ := strconv.Atoi(os.Args[7])
	ctx := context.Background()
	factory := elasticsearchexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*elasticsearchexporter.Config)
	cfg.Endpoints = []string{endpoint}
	cfg.Authentication.User = user
	cfg.Authentication.Password = configopaque.String(password)
	cfg.Authentication.APIKey = configopaque.String(apiKey)
	cfg.LogsIndex = index
	cfg.Batcher.Enabled = &[]bool{true}[0] // synchronous: the bulk request is done when ConsumeLogs returns
	cfg.Batcher.FlushTimeout = 200 * time.Millisecond
	cfg.Batcher.MinSizeItems = 1
	cfg.Retry.Enabled = false
	core, logs := observer.New(zap.InfoLevel)
	set := exportertest.NewNopSettings()
	set.Logger = zap.New(core)
	out := map[string]interface{}{"consume_error": ""}
	exp, err := factory.CreateLogs(ctx, set, cfg)
	if err == nil {
		err = exp.Start(ctx, componenttest.NewNopHost())
	}
	if err == nil {
		ld := plog.NewLogs()
		rl := ld.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("host.name", "otel-es-host")
		sl := rl.ScopeLogs().AppendEmpty()
		for i := 0; i < n; i++ {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr(fmt.Sprintf("%s %d", marker, i))
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1764410400+int64(i), 0)))
		}
		err = exp.ConsumeLogs(ctx, ld)
		_ = exp.Shutdown(ctx)
	}
	if err != nil {
		out["consume_error"] = err.Error()
	}
	out["failed_docs"] = logs.FilterMessage("failed to index document").Len()
	out["flush_errors"] = logs.FilterMessage("bulk indexer flush error").Len()
	for _, e := range logs.All() {
		if e.Level >= zap.WarnLevel {
			fmt.Fprintln(os.Stderr, e.Message, e.ContextMap())
		}
	}
	out["sent"] = n
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
