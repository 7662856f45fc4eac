package udpclient_test

import (
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli/clitest"
	"github.com/netlab/netlab/services/udp-responder/internal/udpclient"
)

// jsonDoc is the page that lists every key the clients write.
const jsonDoc = "../../../../docs/json.md"

// Every object udp-client writes has exactly the keys docs/json.md lists.
func TestJSON_MatchesItsDocumentation(t *testing.T) {
	addr := startResponder(t)
	run := func(args ...string) []map[string]any {
		return clitest.RunJSON(t, udpclient.Main, append([]string{"--addr", addr, "--json"}, args...)...)
	}
	clitest.Documented(t, jsonDoc, "udp-client message", run()[0])
	clitest.Documented(t, jsonDoc, "udp-client exit", run("--exit", "token")[0])

	objs := run("--count", "40", "--rate", "1000", "--report-interval", "10ms")
	probe := objs[len(objs)-1]
	clitest.Documented(t, jsonDoc, "udp-client probe", probe)
	dirs := clitest.Object(t, probe, "directions")
	clitest.Documented(t, jsonDoc, "udp-client directions", dirs)
	clitest.Documented(t, jsonDoc, "latency", clitest.Object(t, dirs, "one_way_up"))
	clitest.Documented(t, jsonDoc, "interval", objs[0])

	objs = run("--load", "--count", "100", "--rate", "2000")
	load := objs[len(objs)-1]
	clitest.Documented(t, jsonDoc, "udp-client load", load)
	clitest.Documented(t, jsonDoc, "schedule", clitest.Object(t, load, "schedule"))
}
