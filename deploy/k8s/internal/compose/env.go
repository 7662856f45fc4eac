package compose

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ReadEnvFile reads KEY=VALUE lines as compose's env_file does; blank
// lines and lines starting with # are skipped, values are taken as they
// are (no quotes are stripped: the project's env files have none).
func ReadEnvFile(path string) (map[string]string, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%s:%d: want KEY=VALUE, got %q", path, i+1, line)
		}
		if _, dup := env[k]; dup {
			return nil, fmt.Errorf("%s:%d: %s is set twice", path, i+1, k)
		}
		env[k] = v
	}
	return env, nil
}

var reference = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// Interpolate replaces ${VAR}, $VAR, ${VAR:-default} and ${VAR-default} as
// compose does, with vars as the only variables; $$ is a literal $.
// ${VAR:?message} and ${VAR?message} fail when VAR is unset.
func Interpolate(s string, vars map[string]string) (string, error) {
	var err error
	out := reference.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := reference.FindStringSubmatch(m)
		name, op, arg := sub[1], sub[2], sub[3]
		if name == "" {
			name = sub[4]
		}
		v, set := vars[name]
		switch {
		case op == ":-" && v == "", op == "-" && !set:
			return arg
		case op == ":?" && v == "", op == "?" && !set:
			err = fmt.Errorf("variable %s is required: %s", name, arg)
		}
		return v
	})
	return out, err
}

// strList is a YAML string or list of strings.
type strList []string

func (l *strList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*l = []string{n.Value}
		return nil
	}
	return n.Decode((*[]string)(l))
}

// envMap is compose's environment: a map, or a list of KEY=VALUE.
type envMap map[string]string

func (m *envMap) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		return n.Decode((*map[string]string)(m))
	}
	var list []string
	if err := n.Decode(&list); err != nil {
		return err
	}
	*m = envMap{}
	for _, kv := range list {
		k, v, _ := strings.Cut(kv, "=")
		(*m)[k] = v
	}
	return nil
}
