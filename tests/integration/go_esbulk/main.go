// Ships N documents to an Elasticsearch-compatible endpoint with the official Go client's
// BulkIndexer and prints {"indexed": n, "failed": m} as JSON.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
)

func main() {
	url, token, index, marker := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	n, _ := strconv.Atoi(os.Args[5])
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{url}, Username: "elastic", Password: token})
	if err != nil {
		panic(err)
	}
	info, err := es.Info()
	if err != nil || info.IsError() {
		fmt.Fprintln(os.Stderr, "info failed:", err, info)
		os.Exit(2)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: index, NumWorkers: 2, FlushBytes: 1 << 16, FlushInterval: 200 * time.Millisecond})
	if err != nil {
		panic(err)
	}
	for i := 0; i < n; i++ {
		doc, _ := json.Marshal(map[string]any{"@timestamp": time.Now().UTC().Format(time.RFC3339Nano), "message": fmt.Sprintf("%s %d", marker, i), "host": map[string]string{"name": "go-client"}})
		if err := bi.Add(context.Background(), esutil.BulkIndexerItem{Action: "create", Body: bytes.NewReader(doc)}); err != nil {
			panic(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		panic(err)
	}
	st := bi.Stats()
	out, _ := json.Marshal(map[string]uint64{"indexed": st.NumIndexed, "created": st.NumCreated, "failed": st.NumFailed})
	fmt.Println(string(out))
}
