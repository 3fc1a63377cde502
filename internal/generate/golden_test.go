package generate

import (
	"bytes"
	"flag"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

var update = flag.Bool("update", false, "rewrite testdata/<case>/want from the generator")

// goldenCases are the folders of testdata: each holds a routes.yaml and, in
// want/, the tree Files must produce from it.
func goldenCases(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, e.Name())
		}
	}
	if len(cases) < 5 {
		t.Fatalf("found %d golden cases in testdata, want at least 5", len(cases))
	}
	return cases
}

func loadCase(t testing.TB, name string) *config.Config {
	t.Helper()
	cfg, err := config.Load(filepath.Join("testdata", name, "routes.yaml"))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return cfg
}

func TestGolden(t *testing.T) {
	for _, name := range goldenCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cfg := loadCase(t, name)
			files, err := Files(cfg)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Files(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.EqualFunc(files, again, bytes.Equal) {
				t.Fatal("two runs on the same config gave different files")
			}
			want := filepath.Join("testdata", name, "want")
			if *update {
				writeTree(t, want, files)
			}
			got := readTree(t, want)
			for _, p := range slices.Sorted(maps.Keys(files)) {
				w, ok := got[p]
				switch {
				case !ok:
					t.Errorf("%s: generated but not in %s (run go test ./internal/generate -update)", p, want)
				case !bytes.Equal(w, files[p]):
					t.Errorf("%s differs from %s (run go test ./internal/generate -update and review the diff)", p, want)
				}
			}
			for _, p := range slices.Sorted(maps.Keys(got)) {
				if _, ok := files[p]; !ok {
					t.Errorf("%s is in %s but no longer generated", p, want)
				}
			}
		})
	}
}

func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	for p, data := range files {
		dest := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dest, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	tree := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		tree[filepath.ToSlash(rel)] = data
		return err
	})
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	return tree
}

// TestExampleCaseIsTheExample keeps the example golden case a copy of
// config/routes.yaml, so the goldens follow the example users start from.
func TestExampleCaseIsTheExample(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	golden, err := os.ReadFile(filepath.Join("testdata", "example", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(example, golden) {
		t.Error("testdata/example/routes.yaml differs from config/routes.yaml: " +
			"cp config/routes.yaml internal/generate/testdata/example/ && go test ./internal/generate -update")
	}
}
