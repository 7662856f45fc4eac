package httpclient_test

import (
	"testing"

	"github.com/netlab/netlab/services/http-hello/internal/httpclient"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// jsonDoc is the page that lists every key the clients write.
const jsonDoc = "../../../../docs/json.md"

// Every object http-client writes has exactly the keys docs/json.md lists.
func TestJSON_MatchesItsDocumentation(t *testing.T) {
	srv, _ := startServer(t)

	run := func(args ...string) []map[string]any {
		return clitest.RunJSON(t, httpclient.Main, append(args, srv)...)
	}
	req := run("--json")[0]
	clitest.Documented(t, jsonDoc, "http-client request", req)
	clitest.Documented(t, jsonDoc, "http-client timings", clitest.Object(t, req, "timings"))

	objs := run("--json", "--count", "40", "--rate", "1000", "--report-interval", "10ms")
	load := objs[len(objs)-1]
	clitest.Documented(t, jsonDoc, "http-client load", load)
	clitest.Documented(t, jsonDoc, "schedule", clitest.Object(t, load, "schedule"))
	for _, key := range []string{"latency", "first_byte", "connect"} {
		clitest.Documented(t, jsonDoc, "latency", clitest.Object(t, load, key))
	}
	if len(objs) < 2 {
		t.Fatalf("no interval object in %v", objs)
	}
	clitest.Documented(t, jsonDoc, "interval", objs[0])

	paged := run("--json", "--count", "3", "--pages", "2")[0]
	clitest.Documented(t, jsonDoc, "http-client load", paged)
	pages, _ := paged["pages"].([]any)
	if len(pages) != 2 {
		t.Fatalf("pages = %v, want 2", paged["pages"])
	}
	for _, p := range pages {
		page, _ := p.(map[string]any)
		clitest.Documented(t, jsonDoc, "http-client page", page)
		if page["requests"] != 3.0 || page["new_conns"] != 1.0 || page["duration_ns"].(float64) <= 0 {
			t.Errorf("page %v", page)
		}
	}

	rec := run("--count", "5", "--rate", "1000", "--save", "-")[0]
	clitest.Documented(t, jsonDoc, "saved run", rec)
	clitest.Documented(t, jsonDoc, "saved run summary", clitest.Object(t, rec, "summary"))
	clitest.Documented(t, jsonDoc, "latency_histogram", clitest.Object(t, rec, "latency_histogram"))
	clitest.Documented(t, jsonDoc, "http-client load", clitest.Object(t, rec, "result"))
}
