package client_test

import (
	"runtime"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/tcp-echo/internal/client"
)

// jsonDoc is the page that lists every key the clients write.
const jsonDoc = "../../../../docs/json.md"

// Every object tcp-echo-client writes has exactly the keys docs/json.md
// lists.
func TestJSON_MatchesItsDocumentation(t *testing.T) {
	addr := startServer(t, echo)
	run := func(args ...string) []map[string]any {
		return clitest.RunJSON(t, client.Main, append([]string{"--addr", addr, "--json"}, args...)...)
	}
	clitest.Documented(t, jsonDoc, "tcp-echo-client echo", run()[0])
	count := run("--count", "3", "--interval", "1ms")[0]
	clitest.Documented(t, jsonDoc, "tcp-echo-client count", count)
	clitest.Documented(t, jsonDoc, "latency", count["latency"].(map[string]any))

	bulk := run("--bulk", "256KiB", "--parallel", "2")[0]
	clitest.Documented(t, jsonDoc, "tcp-echo-client bulk", bulk)
	for _, s := range bulk["streams"].([]any) {
		stream := s.(map[string]any)
		clitest.Documented(t, jsonDoc, "tcp-echo-client bulk stream", stream)
		if runtime.GOOS == "linux" {
			clitest.Documented(t, jsonDoc, "tcp connection", stream["tcp"].(map[string]any))
		}
	}

	objs := run("--load", "--count", "200", "--rate", "2000", "--report-interval", "20ms")
	load := objs[len(objs)-1]
	clitest.Documented(t, jsonDoc, "tcp-echo-client load", load)
	clitest.Documented(t, jsonDoc, "tcp-echo-client load errors", load["errors"].(map[string]any))
	clitest.Documented(t, jsonDoc, "schedule", load["schedule"].(map[string]any))
	clitest.Documented(t, jsonDoc, "interval", objs[0])
	if runtime.GOOS == "linux" {
		clitest.Documented(t, jsonDoc, "tcp", load["tcp"].(map[string]any))
		clitest.Documented(t, jsonDoc, "tcp", objs[0]["tcp"].(map[string]any))
	}
}
