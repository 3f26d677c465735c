package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminalRun is what a command printed on a terminal and its exit status.
type terminalRun struct {
	out  string // stdout and stderr, as the terminal shows them
	code int
}

// runOnTerminal runs the binary with a pseudo-terminal as its standard
// input, output and error, as an operator would. When the output shows a
// [y/N] prompt it types answer.
func runOnTerminal(t *testing.T, tg target, answer string, args ...string) terminalRun {
	t.Helper()
	cmd := exec.Command(binary, append(append([]string(nil), tg.flags...), args...)...)
	cmd.Dir = tg.dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TERM=dumb"}, tg.env...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("start authstore %s on a pseudo-terminal: %v", strings.Join(args, " "), err)
	}
	defer tty.Close()
	var mu sync.Mutex
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil { // EIO once the command has exited
				return
			}
		}
	}()
	if answer != "" {
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			asked := strings.Contains(out.String(), "[y/N]")
			mu.Unlock()
			if asked {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("authstore %s asked nothing on a terminal; output %q", strings.Join(args, " "), out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if _, err := io.WriteString(tty, answer); err != nil {
			t.Fatal(err)
		}
	}
	err = cmd.Wait()
	<-done
	r := terminalRun{out: strings.ReplaceAll(out.String(), "\r\n", "\n")}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("authstore %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// TestConfirmationOnATerminal checks the confirmation rule where an
// operator meets it: on a terminal, a destructive command asks, does
// nothing unless the answer is yes, and needs no --yes.
func TestConfirmationOnATerminal(t *testing.T) {
	dir := t.TempDir()
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=sqlite://" + filepath.Join(dir, "auth.db")}}
	tg.mustRun(t, "migrate", "up")

	r := runOnTerminal(t, tg, "n\n", "migrate", "down", "--all")
	if r.code != 1 || !strings.Contains(r.out, "Roll back every migration") || !strings.Contains(r.out, "not confirmed; nothing changed") {
		t.Errorf("migrate down --all answered no: exit %d, output %q; want exit 1, the question and 'not confirmed'", r.code, r.out)
	}
	if st := tg.status(t); st.Version != 3 {
		t.Fatalf("after answering no: version %d; want 3", st.Version)
	}

	r = runOnTerminal(t, tg, "y\n", "migrate", "down", "--all")
	if r.code != 0 || !strings.Contains(r.out, "rolled back sqlite database to version 0") {
		t.Errorf("migrate down --all answered yes: exit %d, output %q; want exit 0", r.code, r.out)
	}
	if st := tg.status(t); st.Version != 0 {
		t.Errorf("after answering yes: version %d; want 0", st.Version)
	}
}

// TestTableOnATerminal checks the default output on a terminal: aligned
// columns under a header, ids in full.
func TestTableOnATerminal(t *testing.T) {
	dir := t.TempDir()
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=sqlite://" + filepath.Join(dir, "auth.db")}}
	tg.mustRun(t, "migrate", "up")
	for _, name := range []string{"Web", "A client with a longer name"} {
		tg.mustRun(t, "client", "create", "--name", name, "--redirect-uri", "https://app.example.com/cb")
	}
	r := runOnTerminal(t, tg, "", "client", "list")
	if r.code != 0 {
		t.Fatalf("client list on a terminal: exit %d, output %q", r.code, r.out)
	}
	lines := strings.Split(strings.TrimRight(r.out, "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("client list on a terminal printed %q; want a header and two rows", r.out)
	}
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12} `)
	col := strings.Index(lines[0], "TYPE")
	for _, l := range lines[1:] {
		if !uuid.MatchString(l) {
			t.Errorf("row %q does not start with a full id", l)
		}
		if col < 0 || len(l) <= col || l[col-1] != ' ' || l[col] == ' ' {
			t.Errorf("row %q is not aligned under the header %q", l, lines[0])
		}
	}
}

// TestCompletion checks that the completion command is there for the
// shells, and that a client id completes from the database.
func TestCompletion(t *testing.T) {
	dir := t.TempDir()
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=sqlite://" + filepath.Join(dir, "auth.db")}}
	for _, shell := range []string{"bash", "zsh", "fish"} {
		if r := tg.mustRun(t, "completion", shell); !strings.Contains(r.stdout, "authstore") {
			t.Errorf("completion %s printed no script", shell)
		}
	}
	if r := tg.mustRun(t, "--help"); !strings.Contains(r.stdout, "completion") {
		t.Errorf("--help does not list completion: %q", r.stdout)
	}
	tg.mustRun(t, "migrate", "up")
	r := tg.mustRun(t, "client", "create", "--name", "Web", "--redirect-uri", "https://app.example.com/cb", "--json")
	id := regexp.MustCompile(`"id": "([0-9a-f-]{36})"`).FindStringSubmatch(r.stdout)
	if id == nil {
		t.Fatalf("client create --json printed no id: %q", r.stdout)
	}
	r = tg.mustRun(t, "__complete", "client", "show", "")
	if !strings.Contains(r.stdout, id[1]+"\tWeb") {
		t.Errorf("completing client show offered %q; want %s with its name", r.stdout, id[1])
	}
	r = tg.mustRun(t, "__complete", "client", "show", id[1], "")
	if strings.Contains(r.stdout, id[1]) {
		t.Errorf("completing a second argument offered ids: %q", r.stdout)
	}
}
