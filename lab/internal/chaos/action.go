package chaos

import (
	"fmt"
	"strconv"
	"strings"
)

// Action is what a step does to its target.
type Action string

// The actions. The first six go through Docker; the last four through
// netlab's shaping commands (Extern).
const (
	Pause     Action = "pause"
	Unpause   Action = "unpause"
	Kill      Action = "kill"
	Restart   Action = "restart"
	Stop      Action = "stop"
	Start     Action = "start"
	Shape     Action = "shape"
	Partition Action = "partition"
	Heal      Action = "heal"
	Reset     Action = "reset"
)

// change is a state an action leaves a container in that a later action
// takes back.
type change string

const (
	paused      change = "paused"
	stopped     change = "stopped"
	shaped      change = "shaped"
	partitioned change = "partitioned"
)

// actionInfo is how an action behaves.
type actionInfo struct {
	docker bool     // through docker; otherwise through Extern
	makes  change   // the state it leaves, "" for none
	clears []change // the states it takes back
	undo   Action   // what --for/for: runs afterwards; "" if it takes none
	done   string   // the state after it, for the output
}

var actions = map[Action]actionInfo{
	Pause:     {docker: true, makes: paused, undo: Unpause, done: "paused"},
	Unpause:   {docker: true, clears: []change{paused}, done: "running"},
	Kill:      {docker: true, makes: stopped, clears: []change{paused}, undo: Start, done: "signalled"},
	Restart:   {docker: true, clears: []change{stopped}, done: "restarted"},
	Stop:      {docker: true, makes: stopped, clears: []change{paused}, undo: Start, done: "stopped"},
	Start:     {docker: true, clears: []change{stopped}, done: "running"},
	Shape:     {makes: shaped, undo: Reset, done: "shaped"},
	Partition: {makes: partitioned, undo: Heal, done: "partitioned"},
	Heal:      {clears: []change{partitioned}, done: "healed"},
	Reset:     {clears: []change{shaped}, done: "reset"},
}

// DockerActions are the actions `netlab chaos ACTION TARGET` takes, in the
// order help lists them.
var DockerActions = []Action{Pause, Unpause, Kill, Restart, Stop, Start}

// stepActions are the keys that name a step's action, in the order errors
// list them.
var stepActions = []Action{Pause, Unpause, Kill, Restart, Stop, Start, Shape, Partition, Heal, Reset}

// undoCommand is the netlab command that takes back c on target.
func undoCommand(c change, target string) string {
	switch c {
	case paused:
		return "netlab chaos unpause " + target
	case stopped:
		return "netlab chaos start " + target
	case shaped:
		return "netlab shape " + target + " --reset"
	default:
		return "netlab heal " + target
	}
}

// signals are the names docker kill takes, without "SIG".
var signals = map[string]int{
	"HUP": 1, "INT": 2, "QUIT": 3, "ILL": 4, "TRAP": 5, "ABRT": 6, "BUS": 7, "FPE": 8, "KILL": 9,
	"USR1": 10, "SEGV": 11, "USR2": 12, "PIPE": 13, "ALRM": 14, "TERM": 15, "STKFLT": 16,
	"CHLD": 17, "CONT": 18, "STOP": 19, "TSTP": 20, "TTIN": 21, "TTOU": 22, "URG": 23,
	"XCPU": 24, "XFSZ": 25, "VTALRM": 26, "PROF": 27, "WINCH": 28, "IO": 29, "PWR": 30, "SYS": 31,
}

// ParseSignal reads a signal as docker kill does: a name with or without
// SIG, in any case, or a number from 1 to 64. It returns the name docker
// is given ("SIGTERM", or the number).
func ParseSignal(s string) (string, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if _, ok := signals[name]; ok {
		return "SIG" + name, nil
	}
	if n, err := strconv.Atoi(s); err == nil && n >= 1 && n <= 64 {
		return strconv.Itoa(n), nil
	}
	return "", fmt.Errorf("%q is not a signal (like KILL, TERM, HUP, or a number 1..64)", s)
}

// validTarget reports whether s can name a compose service, replica,
// container or ID: what compose and docker allow in names.
func validTarget(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || i > 0 && strings.ContainsRune("_.-", r)
		if !ok {
			return false
		}
	}
	return true
}
