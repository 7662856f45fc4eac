// Package platform holds what every netlab service needs and nothing more:
// configuration from the environment (config), logging (logging), signal
// handling and graceful shutdown (lifecycle), the listener and accept
// loop of the TCP servers with its MAX_CONNS limit and the limits of the
// small HTTP listeners (netserve), the JSON answers of HTTP handlers
// (httpjson), the admin HTTP listener (admin), the healthcheck
// subcommand (healthcheck), build information (version), the
// main every service binary shares (program, with program/programtest for
// testing it), and what the command-line clients share: short network
// error messages (neterr), the latency histogram and its JSON shape
// (latency), the timetable of an open-loop load and its clock (loadgen,
// with loadgen/loadgentest, a fake clock), and the client toolkit
// (clientcli: the signal handling of every client main, flags, text and
// JSON output, how a mode ends, the per-interval report, address
// resolution and error reporting, with clientcli/clitest to test a client
// in process). It depends only on the standard library, env/v11, zap and
// the Prometheus client.
package platform
