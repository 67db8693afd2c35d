package itest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Browse opens html in headless Chromium (bin, from Chromium) twice: once for a screenshot of
// window ("1280,2000": width, height), returned as its PNG bytes (none when it wrote no
// file), once for the DOM the browser built. A browser that fails fails the test.
func Browse(ctx context.Context, t testing.TB, bin string, html []byte, window string) (png []byte, dom string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "report.html")
	if err := os.WriteFile(file, html, 0o644); err != nil {
		t.Fatal(err)
	}
	chrome := func(extra ...string) []byte {
		t.Helper()
		args := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
			"--disable-background-networking", "--disable-component-update", "--disable-sync",
			"--disable-dev-shm-usage", "--user-data-dir=" + filepath.Join(dir, "profile")}, extra...)
		out, err := exec.CommandContext(ctx, bin, append(args, "file://"+file)...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", bin, extra, err)
		}
		return out
	}
	shot := filepath.Join(dir, "report.png")
	chrome("--screenshot="+shot, "--window-size="+window)
	png, _ = os.ReadFile(shot)
	return png, string(chrome("--dump-dom"))
}
