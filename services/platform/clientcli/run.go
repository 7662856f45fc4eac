package clientcli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// MainFunc is a client's whole program: it runs with the given arguments
// (without the program name), environment and standard streams until ctx
// ends or it is done, and returns the exit code. Tests call it directly.
type MainFunc func(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int

// Run runs main as the process and exits with its code. The first SIGINT
// or SIGTERM cancels main's context, so a client stops and prints what it
// has; a second one kills the process at once, as if no handler were
// installed, so a client that is slow to stop can always be ended.
func Run(main MainFunc) {
	os.Exit(main(signalContext(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

// signalContext is canceled by the first SIGINT or SIGTERM. The handler is
// removed before the context is canceled, so once the client can see the
// first signal, a second one gets the default action: the process ends.
func signalContext() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sigs
		signal.Stop(sigs)
		cancel()
	}()
	return ctx
}
