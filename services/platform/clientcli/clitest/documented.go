package clitest

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// Documented checks a JSON object a client printed against its
// documentation: the keys of obj must be exactly those listed in the first
// table under the heading (any level, text as given) of the markdown file
// doc, a row per key with the key in backticks in the first cell. A row
// whose type cell (the second) says "optional" may be missing from obj.
// So the documentation cannot drift from what the client writes.
func Documented(t testing.TB, doc, heading string, obj map[string]any) {
	t.Helper()
	keys, optional, err := documentedKeys(doc, heading)
	if err != nil {
		t.Fatalf("%s: %v", doc, err)
	}
	if len(keys) == 0 {
		t.Fatalf("%s: no table of keys under %q", doc, heading)
	}
	for k := range obj {
		if !slices.Contains(keys, k) {
			t.Errorf("%s %q: key %q is written but not documented", doc, heading, k)
		}
	}
	for _, k := range keys {
		if _, ok := obj[k]; !ok && !optional[k] {
			t.Errorf("%s %q: key %q is documented but not written", doc, heading, k)
		}
	}
}

// documentedKeys reads the keys of the first table under heading.
func documentedKeys(doc, heading string) (keys []string, optional map[string]bool, err error) {
	f, err := os.Open(doc)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	optional = map[string]bool{}
	in, inTable := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			if in {
				break
			}
			in = strings.TrimSpace(strings.TrimLeft(line, "#")) == heading
			continue
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "|") {
			if inTable {
				break
			}
			continue
		}
		inTable = true
		cells := strings.Split(strings.Trim(line, "|"), "|")
		key := strings.TrimSpace(cells[0])
		if !strings.HasPrefix(key, "`") {
			continue // the header and its rule
		}
		key = strings.Trim(key, "`")
		keys = append(keys, key)
		if len(cells) > 1 && strings.Contains(cells[1], "optional") {
			optional[key] = true
		}
	}
	return keys, optional, sc.Err()
}
