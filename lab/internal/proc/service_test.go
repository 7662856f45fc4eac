package proc_test

// StartService against a fake netlab server: the test binary itself,
// started again with fakeServiceEnv set.

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/internal/proc"
)

// fakeServiceEnv makes the test binary act as a netlab server for
// StartService: LISTEN_ADDR takes connections, ADMIN_ADDR answers
// /readyz and /env.
const fakeServiceEnv = "PROC_TEST_FAKE_SERVICE"

func TestMain(m *testing.M) {
	if os.Getenv(fakeServiceEnv) == "1" {
		fakeService()
		return
	}
	os.Exit(m.Run())
}

func fakeService() {
	ln, err := net.Listen("tcp", os.Getenv("LISTEN_ADDR"))
	if err != nil {
		os.Exit(3)
	}
	defer ln.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("/env", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, os.Getenv("LISTEN_ADDR"), " ", os.Getenv("LOG_FORMAT"), " ", os.Getenv("EXTRA"))
	})
	_ = http.ListenAndServe(os.Getenv("ADMIN_ADDR"), mux)
}

func TestGroup_StartServiceGivesAddressesAndWaitsForReadyz(t *testing.T) {
	var g proc.Group
	defer g.StopAll()
	listen, err := proc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p, admin, err := g.StartService(t.Context(), "fake", os.Args[0], listen, fakeServiceEnv+"=1", "EXTRA=x")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(admin, "http://127.0.0.1:") {
		t.Errorf("admin = %q, want a loopback base URL", admin)
	}
	resp, err := http.Get(admin + "/env")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := listen + " json x"; string(body) != want {
		t.Errorf("the server saw LISTEN_ADDR, LOG_FORMAT, EXTRA = %q, want %q", body, want)
	}
	if err := proc.WaitTCP(listen)(t.Context()); err != nil {
		t.Errorf("LISTEN_ADDR: %v", err)
	}
	if fds, err := p.OpenFDs(); err != nil || fds < 3 {
		t.Errorf("OpenFDs = %d, %v", fds, err)
	}
}
