package bundle

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/webhookq/webhookq/internal/config"
	"github.com/webhookq/webhookq/internal/testkit/testenv"
)

// fakeModule writes a module whose functions are stdlib-only mains, so the
// build pipeline is tested apart from the real functions' dependencies.
func fakeModule(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", "module example.com/fake\n\ngo 1.26\n")
	for _, fn := range config.Functions {
		write("functions/"+fn+"/main.go", "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\""+fn+"\") }\n")
	}
	return root
}

func TestBuildIsDeterministic(t *testing.T) {
	t.Parallel()
	root := fakeModule(t)
	routes := []byte("service: demo\n")
	var lines []string
	opts := Options{ModuleRoot: root, Config: routes, Progress: func(l string) { lines = append(lines, l) }}
	first, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(config.Functions) {
		t.Fatalf("got %d zips, want %d", len(first), len(config.Functions))
	}
	for _, fn := range config.Functions {
		p := ZipPath(fn)
		if first[p] == nil {
			t.Fatalf("no zip for %s", p)
		}
		if !bytes.Equal(first[p], second[p]) {
			t.Errorf("%s differs between two builds", p)
		}
		checkZip(t, p, first[p], routes)
	}
	if len(lines) != 2*len(config.Functions) {
		t.Errorf("progress lines = %q, want one per function per build", lines)
	}
}

// TestBuildRealFunctions builds the repository's three functions twice: the
// zips must be byte-identical and each bootstrap a static arm64 binary, which
// is what provided.al2023 runs.
func TestBuildRealFunctions(t *testing.T) {
	t.Parallel()
	root := testenv.RepoRoot(t)
	routes, err := os.ReadFile(filepath.Join(root, "config", "routes.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{ModuleRoot: root, Config: routes}
	first, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Build(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range config.Functions {
		p := ZipPath(fn)
		if !bytes.Equal(first[p], second[p]) {
			t.Errorf("%s differs between two builds of the same tree", p)
		}
		checkZip(t, p, first[p], routes)
		r, err := zip.NewReader(bytes.NewReader(first[p]), int64(len(first[p])))
		if err != nil {
			t.Fatal(err)
		}
		bin, err := elf.NewFile(bytes.NewReader(readEntry(t, r.File[0])))
		if err != nil {
			t.Fatal(err)
		}
		for _, prog := range bin.Progs {
			if prog.Type == elf.PT_INTERP {
				t.Errorf("%s: bootstrap is dynamically linked", p)
			}
		}
	}
}

func TestBuildReportsCompileErrors(t *testing.T) {
	t.Parallel()
	root := fakeModule(t)
	if err := os.WriteFile(filepath.Join(root, "functions", "deliver", "main.go"), []byte("package main\n\nfunc main() { undefinedCall() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Build(context.Background(), Options{ModuleRoot: root, Config: []byte("x")})
	if err == nil {
		t.Fatal("Build succeeded on a function that does not compile")
	}
	if !bytes.Contains([]byte(err.Error()), []byte("undefinedCall")) {
		t.Errorf("error does not carry the compiler's message: %v", err)
	}
}

func checkZip(t *testing.T, name string, archive, config []byte) {
	t.Helper()
	r, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	want := []struct {
		name string
		mode os.FileMode
	}{{BootstrapEntry, 0o755}, {ConfigEntry, 0o644}}
	if len(r.File) != len(want) {
		t.Fatalf("%s: %d entries, want %d", name, len(r.File), len(want))
	}
	for i, w := range want {
		f := r.File[i]
		if f.Name != w.name {
			t.Errorf("%s: entry %d is %q, want %q", name, i, f.Name, w.name)
		}
		if f.Mode() != w.mode {
			t.Errorf("%s: %s mode %v, want %v", name, f.Name, f.Mode(), w.mode)
		}
		if !f.Modified.Equal(zipTime) {
			t.Errorf("%s: %s modified %v, want %v", name, f.Name, f.Modified, zipTime)
		}
	}
	bootstrap := readEntry(t, r.File[0])
	bin, err := elf.NewFile(bytes.NewReader(bootstrap))
	if err != nil {
		t.Fatalf("%s: bootstrap is not an ELF binary: %v", name, err)
	}
	if bin.Machine != elf.EM_AARCH64 {
		t.Errorf("%s: bootstrap machine %v, want EM_AARCH64", name, bin.Machine)
	}
	if got := readEntry(t, r.File[1]); !bytes.Equal(got, config) {
		t.Errorf("%s: routes.yaml = %q, want the config bytes %q", name, got, config)
	}
}

func readEntry(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestZipIsDeterministic(t *testing.T) {
	t.Parallel()
	a, err := Zip([]byte("binary"), []byte("config"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Zip([]byte("binary"), []byte("config"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same inputs gave different zips")
	}
	c, err := Zip([]byte("binary"), []byte("config2"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("different config gave the same zip")
	}
}
