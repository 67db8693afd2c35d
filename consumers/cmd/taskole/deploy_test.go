package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestDeployEnvMatchesFlags keeps deploy/compose.yaml and deploy/k8s in step with the binary:
// every TASKOLE_* variable given to a container must be a flag of the subcommand it runs, and
// every probe path must be one the ops server serves. The files cannot be run here (no
// Docker, no cluster), so this is how they are validated.
func TestDeployEnvMatchesFlags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "taskole")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building taskole: %v\n%s", err, out)
	}
	flagsOf := map[string]map[string]bool{}
	flagLine := regexp.MustCompile(`(?m)^\s+-([a-z0-9-]+)`)
	flags := func(args []string) map[string]bool {
		key := strings.Join(args, " ")
		if f, ok := flagsOf[key]; ok {
			return f
		}
		cmd := exec.Command(bin, append(append([]string{}, args...), "--help")...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		_ = cmd.Run() // --help exits 0 or 2 depending on the flag package; the text is what counts
		f := map[string]bool{}
		for _, m := range flagLine.FindAllStringSubmatch(out.String(), -1) {
			f[m[1]] = true
		}
		if len(f) == 0 {
			t.Fatalf("taskole %s --help lists no flags:\n%s", key, out.String())
		}
		flagsOf[key] = f
		return f
	}
	check := func(where string, args []string, env []string) {
		t.Helper()
		f := flags(args)
		for _, e := range env {
			if !strings.HasPrefix(e, "TASKOLE_") {
				continue
			}
			name := strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(e, "TASKOLE_")), "_", "-")
			if !f[name] {
				t.Errorf("%s: %s is not a flag of `taskole %s` (no --%s)", where, e, strings.Join(args, " "), name)
			}
		}
	}

	// compose.yaml
	var compose struct {
		Services map[string]struct {
			Command     []string          `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			Image       string            `yaml:"image"`
		} `yaml:"services"`
	}
	readYAML(t, "../../../deploy/compose.yaml", &compose)
	var checked int
	for name, s := range compose.Services {
		if !strings.HasPrefix(s.Image, "taskole") {
			continue
		}
		check("compose.yaml service "+name, s.Command, keys(s.Environment))
		checked++
	}
	if checked < 4 {
		t.Fatalf("compose.yaml: checked %d taskole services, want at least 4", checked)
	}

	// k8s: the ConfigMap's variables reach every container through envFrom.
	var cm struct {
		Data map[string]string `yaml:"data"`
	}
	readYAML(t, "../../../deploy/k8s/configmap.yaml", &cm)
	type container struct {
		Name string   `yaml:"name"`
		Args []string `yaml:"args"`
		Env  []struct {
			Name string `yaml:"name"`
		} `yaml:"env"`
		ReadinessProbe struct {
			HTTPGet struct {
				Path string `yaml:"path"`
			} `yaml:"httpGet"`
		} `yaml:"readinessProbe"`
	}
	type template struct {
		Spec struct {
			InitContainers []container `yaml:"initContainers"`
			Containers     []container `yaml:"containers"`
		} `yaml:"spec"`
	}
	var podSpec struct {
		Spec struct {
			Template    template `yaml:"template"`
			JobTemplate struct { // CronJob
				Spec struct {
					Template template `yaml:"template"`
				} `yaml:"spec"`
			} `yaml:"jobTemplate"`
		} `yaml:"spec"`
	}
	files, _ := filepath.Glob("../../../deploy/k8s/*.yaml")
	var deployments int
	for _, file := range files {
		podSpec.Spec.Template = template{}
		podSpec.Spec.JobTemplate.Spec.Template = template{}
		readYAML(t, file, &podSpec)
		cs := slices.Concat(podSpec.Spec.Template.Spec.InitContainers, podSpec.Spec.Template.Spec.Containers,
			podSpec.Spec.JobTemplate.Spec.Template.Spec.Containers)
		for _, c := range cs {
			env := keys(cm.Data)
			for _, e := range c.Env {
				env = append(env, e.Name)
			}
			check(filepath.Base(file)+" container "+c.Name, c.Args, env)
			if p := c.ReadinessProbe.HTTPGet.Path; p != "" {
				deployments++
				if p != "/readyz" {
					t.Errorf("%s: readiness probe on %s, want /readyz", file, p)
				}
			}
		}
	}
	if deployments != 3 {
		t.Errorf("k8s: %d deployments with a /readyz probe, want 3 (ledger, payouts, sink)", deployments)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
