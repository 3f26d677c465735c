package main

import (
	"bytes"
	"database/sql"
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
	"github.com/forgeauth/authstore/migrations"
	"golang.org/x/sys/unix"
)

// terminalRun is what a command printed on a terminal and its exit status.
type terminalRun struct {
	out  string // stdout and stderr, as the terminal shows them
	code int
}

// terminal is the binary running with a pseudo-terminal as its standard
// input, output and error, as an operator runs it: a test waits for what
// it shows, types, and collects the exit status.
type terminal struct {
	t    *testing.T
	args []string
	cmd  *exec.Cmd
	tty  *os.File // the master side
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// startTerminal starts the binary with tg's flags and environment and args
// on a new pseudo-terminal.
func startTerminal(t *testing.T, tg target, args ...string) *terminal {
	t.Helper()
	tm := &terminal{t: t, args: args, done: make(chan struct{})}
	tm.cmd = exec.Command(binary, append(append([]string(nil), tg.flags...), args...)...)
	tm.cmd.Dir = tg.dir
	tm.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TERM=dumb"}, tg.env...)
	var err error
	tm.tty, err = pty.StartWithSize(tm.cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatalf("start authstore %s on a pseudo-terminal: %v", strings.Join(args, " "), err)
	}
	t.Cleanup(func() { tm.tty.Close() })
	go func() {
		defer close(tm.done)
		buf := make([]byte, 4096)
		for {
			n, err := tm.tty.Read(buf)
			tm.mu.Lock()
			tm.out.Write(buf[:n])
			tm.mu.Unlock()
			if err != nil { // EIO once the command has exited
				return
			}
		}
	}()
	return tm
}

// shown returns what the terminal has shown so far.
func (tm *terminal) shown() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// echoOn reports whether the terminal echoes what is typed (a no-echo
// prompt turns it off).
func (tm *terminal) echoOn() bool {
	tm.t.Helper()
	tio, err := unix.IoctlGetTermios(int(tm.tty.Fd()), unix.TCGETS)
	if err != nil {
		tm.t.Fatalf("read the terminal's modes: %v", err)
	}
	return tio.Lflag&unix.ECHO != 0
}

// waitUntil waits up to 30 seconds for ready, and fails the test naming
// what it waited for otherwise.
func (tm *terminal) waitUntil(what string, ready func() bool) {
	tm.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ready(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("authstore %s: waited in vain for %s; the terminal shows %q", strings.Join(tm.args, " "), what, tm.shown())
		}
	}
}

// typeText types text at the terminal.
func (tm *terminal) typeText(text string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.tty, text); err != nil {
		tm.t.Fatal(err)
	}
}

// wait waits for the command to exit and returns what the terminal showed
// (line ends as \n) and the exit status.
func (tm *terminal) wait() terminalRun {
	tm.t.Helper()
	err := tm.cmd.Wait()
	<-tm.done
	r := terminalRun{out: strings.ReplaceAll(tm.shown(), "\r\n", "\n")}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		tm.t.Fatalf("authstore %s: %v", strings.Join(tm.args, " "), err)
	}
	return r
}

// runOnTerminal runs the binary on a pseudo-terminal; when the output
// shows a [y/N] prompt it types answer.
func runOnTerminal(t *testing.T, tg target, answer string, args ...string) terminalRun {
	t.Helper()
	tm := startTerminal(t, tg, args...)
	if answer != "" {
		tm.waitUntil("a [y/N] prompt", func() bool { return strings.Contains(tm.shown(), "[y/N]") })
		tm.typeText(answer)
	}
	return tm.wait()
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
	if st := tg.status(t); st.Version != migrations.Latest() {
		t.Fatalf("after answering no: version %d; want %d", st.Version, migrations.Latest())
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

// TestLockedDatabase runs the CLI against a SQLite file whose write lock
// another process holds: commands that read still work (WAL readers do
// not wait for a writer), and a command that writes waits for the busy
// timeout, then fails in one line that says the database is locked,
// having written nothing.
func TestLockedDatabase(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.db")
	tg := target{dialect: "sqlite", dir: dir, env: []string{"DATABASE_URL=sqlite://" + path}}
	tg.mustRun(t, "migrate", "up")
	tg.runInputOK(t, "correct horse battery\n", "user", "create", "--name", "Ada", "--email", "ada@example.com")

	holder, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_busy_timeout=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin() // BEGIN IMMEDIATE: the write lock, held until the end of the test
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()

	if r := tg.run(t, "user", "list"); r.code != 0 || !strings.Contains(r.stdout, "ada@example.com") {
		t.Errorf("user list while another process holds the write lock: %v; want exit 0 listing ada", r)
	}
	if r := tg.run(t, "stats"); r.code != 0 {
		t.Errorf("stats while another process holds the write lock: %v; want exit 0", r)
	}
	start := time.Now()
	r := tg.runInput(t, "another password\n", "user", "create", "--name", "Bob", "--email", "bob@example.com")
	failsWith(t, r, exitFailure, "locked")
	if waited := time.Since(start); waited < 5*time.Second {
		t.Errorf("user create gave up after %v; want the busy timeout (10 s) first", waited)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if r := tg.mustRun(t, "user", "list"); strings.Contains(r.stdout, "bob@example.com") {
		t.Errorf("the failed create wrote a user: %q", r.stdout)
	}
}
