// Drive the OpenTelemetry Collector's splunk_hec exporter (contrib v0.115.0, the code the
// collector runs: its HEC event encoding, gzip, Authorization: Splunk, batching by size)
// against a server, synchronously (no sending queue, no retry: an error comes back here).
//
// Usage: oteldrive ENDPOINT TOKEN MARKER COUNT
// Prints {"error": "..."} or {"sent": n}.
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

	"github.com/open-telemetry/opentelemetry-collector-contrib/exporter/splunkhecexporter"
)

func main() {
	endpoint, token, marker := os.Args[1], os.Args[2], os.Args[3]
	n, _ := strconv.Atoi(os.Args[4])
	ctx := context.Background()
	factory := splunkhecexporter.NewFactory()
	cfg := factory.CreateDefaultConfig().(*splunkhecexporter.Config)
	cfg.Endpoint = endpoint
	cfg.Token = configopaque.String(token)
	cfg.SourceType = "otel:log"
	cfg.Source = "otel-driver"
	cfg.Index = "main"
	cfg.QueueSettings.Enabled = false
	cfg.BackOffConfig.Enabled = false
	cfg.Timeout = 30 * time.Second
	exp, err := factory.CreateLogs(ctx, exportertest.NewNopSettings(), cfg)
	out := map[string]interface{}{}
	if err == nil {
		err = exp.Start(ctx, componenttest.NewNopHost())
	}
	if err == nil {
		logs := plog.NewLogs()
		rl := logs.ResourceLogs().AppendEmpty()
		rl.Resource().Attributes().PutStr("host.name", "otel-host")
		sl := rl.ScopeLogs().AppendEmpty()
		for i := 0; i < n; i++ {
			lr := sl.LogRecords().AppendEmpty()
			lr.Body().SetStr(fmt.Sprintf("%s %d", marker, i))
			lr.SetTimestamp(pcommon.NewTimestampFromTime(time.Unix(1764410400+int64(i), 250_000_000)))
			lr.Attributes().PutStr("service", "driver")
		}
		err = exp.ConsumeLogs(ctx, logs)
		_ = exp.Shutdown(ctx)
	}
	if err != nil {
		out["error"] = err.Error()
	} else {
		out["sent"] = n
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
