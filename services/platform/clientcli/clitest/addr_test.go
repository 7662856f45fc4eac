package clitest_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/netlab/netlab/services/platform/clientcli"
	"github.com/netlab/netlab/services/platform/clientcli/clitest"
)

// greeter is a client as the tutorial clients are: no argument, an
// address from --addr, GREETER_ADDR or the default; it greets the address.
type greeter struct{ addr string }

func (g greeter) Run(_ context.Context, out clientcli.Output) int {
	if g.addr != "127.0.0.1:7" {
		return clientcli.Failure(out.Stderr, "greeter", fmt.Errorf("no answer from %s", g.addr))
	}
	fmt.Fprintf(out.Stdout, "hello from %s\n", g.addr)
	return 0
}

func greeterMain(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) int {
	f := clientcli.NewFlags("greeter", "Usage: greeter [flags]\n")
	addr := f.String("addr", "", "")
	return clientcli.Launch(ctx, f, args, stdout, stderr, func() (greeter, error) {
		if len(f.Args()) > 0 {
			return greeter{}, fmt.Errorf("unexpected argument %q", f.Args()[0])
		}
		a, err := clientcli.ResolveAddr(*addr, f.Given("addr"), getenv, "GREETER_ADDR", "127.0.0.1:9")
		return greeter{addr: a}, err
	})
}

func TestAddrCases_AClientOnClientcliPasses(t *testing.T) {
	clitest.RunCases(t, greeterMain, clitest.AddrCases("greeter", "GREETER_ADDR", "127.0.0.1:7", "127.0.0.1:1", "hello from 127.0.0.1:7\n"))
}
