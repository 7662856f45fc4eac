package httpclient_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// jsonDoc is the page that lists every key the clients write.
const jsonDoc = "../../../../docs/json.md"

// objects decodes one JSON object per line.
func objects(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var o map[string]any
		if err := json.Unmarshal([]byte(line), &o); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		objs = append(objs, o)
	}
	return objs
}

func sub(t *testing.T, o map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := o[key].(map[string]any)
	if !ok {
		t.Fatalf("%s is %T, want an object", key, o[key])
	}
	return v
}

// Every object http-client writes has exactly the keys docs/json.md lists.
func TestJSON_MatchesItsDocumentation(t *testing.T) {
	srv, _ := startServer(t)

	_, out, _ := runMain(t.Context(), []string{"--json", srv}, nil)
	req := objects(t, out)[0]
	clitest.Documented(t, jsonDoc, "http-client request", req)
	clitest.Documented(t, jsonDoc, "http-client timings", sub(t, req, "timings"))

	_, out, _ = runMain(t.Context(), []string{"--json", "--count", "40", "--rate", "1000", "--report-interval", "10ms", srv}, nil)
	objs := objects(t, out)
	load := objs[len(objs)-1]
	clitest.Documented(t, jsonDoc, "http-client load", load)
	clitest.Documented(t, jsonDoc, "schedule", sub(t, load, "schedule"))
	for _, key := range []string{"latency", "first_byte", "connect"} {
		clitest.Documented(t, jsonDoc, "latency", sub(t, load, key))
	}
	if len(objs) < 2 {
		t.Fatalf("no interval object in %q", out)
	}
	clitest.Documented(t, jsonDoc, "interval", objs[0])

	_, out, _ = runMain(t.Context(), []string{"--count", "5", "--rate", "1000", "--save", "-", srv}, nil)
	rec := objects(t, out)[0]
	clitest.Documented(t, jsonDoc, "saved run", rec)
	clitest.Documented(t, jsonDoc, "saved run summary", sub(t, rec, "summary"))
	clitest.Documented(t, jsonDoc, "latency_histogram", sub(t, rec, "latency_histogram"))
	clitest.Documented(t, jsonDoc, "http-client load", sub(t, rec, "result"))
}
