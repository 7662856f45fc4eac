// Package render builds a kustomization into Kubernetes objects and decodes
// each one strictly with client-go's scheme, so an unknown or misspelled
// field, or a kind the API does not have, is an error naming the object.
package render

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// MaxObjects bounds how many objects one kustomization may render to.
const MaxObjects = 1000

// Object is one rendered object: its identity and its typed value.
type Object struct {
	Kind, Namespace, Name string
	Value                 runtime.Object
}

// String names the object as the messages do: "Deployment netlab/tcp-echo".
func (o Object) String() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// Kustomize builds the kustomization in dir as `kubectl kustomize dir`
// does and decodes every object. It returns the rendered YAML too.
func Kustomize(dir string) ([]Object, []byte, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	if m.Size() > MaxObjects {
		return nil, nil, fmt.Errorf("kustomize %s: %d objects, more than %d", dir, m.Size(), MaxObjects)
	}
	var objs []Object
	for _, r := range m.Resources() {
		doc, err := r.AsYAML()
		if err != nil {
			return nil, nil, fmt.Errorf("%s %s: %w", r.GetKind(), r.GetName(), err)
		}
		obj, err := Decode(doc)
		if err != nil {
			return nil, nil, err
		}
		objs = append(objs, obj)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, nil, fmt.Errorf("kustomize %s: %w", dir, err)
	}
	return objs, out, nil
}

// Decode decodes one YAML document strictly into its typed object.
func Decode(doc []byte) (Object, error) {
	var meta struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(doc, &meta); err != nil {
		return Object{}, fmt.Errorf("not a Kubernetes object: %w", err)
	}
	o := Object{Kind: meta.Kind, Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name}
	v, _, err := strict.Decode(doc, nil, nil)
	if err != nil {
		return o, fmt.Errorf("%s: %w", o, err)
	}
	o.Value = v
	return o, nil
}

// Kubectl renders dir with `kubectl kustomize` (kubectl is the path of
// the binary) and decodes every object, so the two renderings can be
// compared.
func Kubectl(ctx context.Context, kubectl, dir string) ([]Object, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, kubectl, "kustomize", dir)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("kubectl kustomize %s: %w: %s", dir, err, bytes.TrimSpace(stderr.Bytes()))
	}
	var objs []Object
	for _, doc := range bytes.Split(stdout.Bytes(), []byte("\n---\n")) {
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if len(objs) == MaxObjects {
			return nil, fmt.Errorf("kubectl kustomize %s: more than %d objects", dir, MaxObjects)
		}
		obj, err := Decode(doc)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
	return objs, nil
}
