package hello_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkServer_Hello measures GET / over keep-alive HTTP/1.1
// connections from parallel clients (requests/s), with the access log off
// as in a load test, and metrics on.
func BenchmarkServer_Hello(b *testing.B) {
	cfg := testConfig()
	r := start(b, cfg)
	transport := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: transport}
	b.Cleanup(transport.CloseIdleConnections)
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(r.base + "/")
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
