package tests_test

import (
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/netlab/netlab/tests/e2e"
)

// Every service the compose file runs by default is hardened; the peer
// nodes are checked in TestPeer_ComposeSwarmSpreadsFile, which runs them.
func TestStack_EveryServiceIsHardened(t *testing.T) {
	s := e2e.SharedStack(t)
	for _, name := range e2e.DefaultServices {
		t.Run(name, func(t *testing.T) { e2e.AssertHardened(t, s.Service(name).Container()) })
	}
}

// TestStack_ComposeExemptsOnlyTheShaper reads docker-compose.yml as
// compose does (anchors merged, every profile on) and checks each
// service's definition: all of them run as a numeric non-root user,
// read-only, with every capability dropped, none added, and
// no-new-privileges, except the shaper alone, which runs as uid 0 with
// NET_ADMIN and nothing else (Docker gives a non-root user no effective
// capability from cap_add), read-only and no-new-privileges too. Reading
// the file needs no Docker: it runs with -short as well.
func TestStack_ComposeExemptsOnlyTheShaper(t *testing.T) {
	root, err := e2e.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "docker-compose.yml")},
		cli.WithName("hardening"), cli.WithWorkingDirectory(root), cli.WithProfiles([]string{"*"}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(t.Context())
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	all := p.AllServices()
	if _, ok := all["shaper"]; !ok || len(all) < 2 {
		t.Fatalf("docker-compose.yml has services %v; want the shaper among others", slices.Sorted(maps.Keys(all)))
	}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		svc := all[name]
		t.Run(name, func(t *testing.T) {
			if !svc.ReadOnly || svc.Privileged {
				t.Errorf("read_only %v, privileged %v; want read-only, not privileged", svc.ReadOnly, svc.Privileged)
			}
			if !slices.Equal(upper(svc.CapDrop), []string{"ALL"}) {
				t.Errorf("cap_drop %v, want [ALL]", svc.CapDrop)
			}
			if !slices.ContainsFunc(svc.SecurityOpt, func(o string) bool { return o == "no-new-privileges" || o == "no-new-privileges:true" }) {
				t.Errorf("security_opt %v, want no-new-privileges", svc.SecurityOpt)
			}
			if name == "shaper" {
				if svc.User != "0:0" || !slices.Equal(upper(svc.CapAdd), []string{"NET_ADMIN"}) {
					t.Errorf("user %q, cap_add %v; want 0:0 and [NET_ADMIN] alone", svc.User, svc.CapAdd)
				}
				if !slices.Equal(svc.Profiles, []string{"shaper"}) || !strings.HasPrefix(svc.NetworkMode, types.NetworkModeServicePrefix) {
					t.Errorf("profiles %v, network_mode %q; want a profile of its own and a target's namespace", svc.Profiles, svc.NetworkMode)
				}
				return
			}
			if len(svc.CapAdd) > 0 {
				t.Errorf("cap_add %v, want none (only the shaper holds a capability)", svc.CapAdd)
			}
			uid, gid, ok := strings.Cut(svc.User, ":")
			u, uerr := strconv.Atoi(uid)
			g, gerr := strconv.Atoi(gid)
			if !ok || uerr != nil || gerr != nil || u == 0 || g == 0 {
				t.Errorf("user %q, want a numeric non-root uid:gid", svc.User)
			}
		})
	}
}

// upper writes capability names as Docker compares them: CAP_ optional.
func upper(caps []string) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = strings.TrimPrefix(strings.ToUpper(c), "CAP_")
	}
	return out
}
