package clitest

// AddrCases are the rows every client with an --addr flag passes: the
// server address comes from --addr, else the environment variable env
// (else the client's default), and a bad one is refused naming where it
// came from; the client takes no argument, prints its help on --help and
// names an unknown flag. With its address from env or --addr, the
// client's plain run against the server at addr prints exactly reply; other
// is an address that must not be used (a closed or silent one).
func AddrCases(prog, env, addr, other, reply string) []Case {
	return []Case{
		{Name: "default run via env", Env: map[string]string{env: addr}, Stdout: []string{reply}, Exact: true},
		{Name: "addr flag beats env", Args: []string{"--addr", addr}, Env: map[string]string{env: other},
			Stdout: []string{reply}, Exact: true},
		{Name: "help", Args: []string{"--help"}, Stdout: []string{"Usage: " + prog + " [flags]"}},
		{Name: "unknown flag", Args: []string{"--bogus"}, Code: 2, Stderr: "flag provided but not defined: -bogus"},
		{Name: "positional argument", Args: []string{"x"}, Code: 2, Stderr: `unexpected argument "x"`},
		{Name: "bad address", Args: []string{"--addr", "localhost"}, Code: 2, Stderr: `invalid address "localhost" from --addr`},
		{Name: "bad env address", Env: map[string]string{env: "nohost"}, Code: 2, Stderr: "from " + env},
	}
}
