package integration

// The headless Chromium the browser tests drive (chromedp). CI requires it
// (AUTHSTORE_REQUIRE_BROWSER=1, set by .ci/run, which installs Debian's
// chromium when it is missing); elsewhere a machine without it skips the
// browser tests and says so.

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const envRequireBrowser = "AUTHSTORE_REQUIRE_BROWSER"

// chromiumPath returns the Chromium binary, or skips the test (fails it
// when AUTHSTORE_REQUIRE_BROWSER=1) when there is none.
func chromiumPath(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(envRequireBrowser) == "1" {
		t.Fatalf("no chromium on PATH and %s=1: install it (apt-get install -y chromium)", envRequireBrowser)
	}
	t.Skipf("no chromium on PATH: browser test skipped (apt-get install -y chromium; %s=1 makes this a failure)", envRequireBrowser)
	return ""
}

// newBrowser starts headless Chromium with a fresh profile in t.TempDir()
// and returns a tab's context, cancelled (and the browser stopped) when
// the test ends. The flags keep it off the network: without them it
// fetches updates, sync and field trials, which this machine refuses.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(800, 700),
		chromedp.WSURLReadTimeout(60 * time.Second),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first action starts the browser, and lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// step runs actions on the browser with a deadline of its own.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
}

// read runs one action that returns a value, with a deadline of its own.
func read[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("browser: %s: %v", what, err)
	}
	return v
}
