package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// server is a running `authstore serve`.
type server struct {
	cmd    *exec.Cmd
	issuer string
	lines  chan string // the rest of its standard output
	stderr *lockedBuffer
}

// lockedBuffer is a buffer that the exec package's copying goroutine
// writes while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServe runs `authstore serve --addr 127.0.0.1:0` in dir and waits
// until it listens. It is stopped (SIGKILL) when the test ends, unless the
// test stopped it.
func startServe(t *testing.T, dir string, env []string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, lines: make(chan string, 100), stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
	}()
	deadline := time.After(2 * time.Minute)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				cmd.Wait()
				t.Fatalf("authstore serve exited before listening: %v; stderr %q", cmd.ProcessState, s.stderr.String())
			}
			if _, rest, ok := strings.Cut(line, ", issuer "); ok {
				s.issuer, _, _ = strings.Cut(rest, " ")
				return s
			}
		case <-deadline:
			t.Fatalf("authstore serve did not listen within 2 minutes; stderr %q", s.stderr.String())
		}
	}
}

// stop sends sig and waits for the exit; it returns the exit status and
// the rest of the output.
func (s *server) stop(t *testing.T, sig os.Signal) (int, string) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var rest []string
	for line := range s.lines {
		rest = append(rest, line)
	}
	err := s.cmd.Wait()
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, strings.Join(rest, "\n")
}

// TestServe: from an empty folder, serve creates and migrates
// ./authstore.db, a development master key and a signing key, serves
// discovery and the JWKS for its issuer, and stops cleanly on SIGTERM and
// on SIGINT.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, nil)
	if !strings.HasPrefix(s.issuer, "http://127.0.0.1:") || strings.HasSuffix(s.issuer, ":0") {
		t.Fatalf("issuer %q; want http://127.0.0.1:PORT with the port it listens on", s.issuer)
	}
	for _, f := range []string{"authstore.db"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("serve in an empty folder: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var disc struct {
		Issuer string   `json:"issuer"`
		JWKS   string   `json:"jwks_uri"`
		Token  string   `json:"token_endpoint"`
		Scopes []string `json:"scopes_supported"`
	}
	getJSON(t, ctx, s.issuer+"/.well-known/openid-configuration", &disc)
	if disc.Issuer != s.issuer || !strings.HasPrefix(disc.Token, s.issuer) {
		t.Errorf("discovery: issuer %q, token endpoint %q; want both under %q", disc.Issuer, disc.Token, s.issuer)
	}
	if want := []string{"openid", "profile", "email", "offline_access"}; !slices.Equal(disc.Scopes, want) {
		t.Errorf("discovery: scopes_supported %q; want %q, the scopes whose claims the provider serves", disc.Scopes, want)
	}
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	getJSON(t, ctx, disc.JWKS, &jwks)
	if len(jwks.Keys) != 1 || jwks.Keys[0]["d"] != nil {
		t.Errorf("JWKS %v; want the one public signing key serve made", jwks.Keys)
	}
	code, rest := s.stop(t, syscall.SIGTERM)
	if code != 0 || !strings.Contains(rest, "shutting down") {
		t.Fatalf("after SIGTERM: exit %d, output %q, stderr %q; want exit 0 after shutting down", code, rest, s.stderr.String())
	}

	// Again on the same folder: the key is kept, and SIGINT stops it too.
	s = startServe(t, dir, nil, "--issuer", "http://localhost:1")
	if s.issuer != "http://localhost:1" {
		t.Errorf("--issuer http://localhost:1: issuer %q", s.issuer)
	}
	if code, rest := s.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("after SIGINT: exit %d, output %q", code, rest)
	}
	if strings.Contains(s.stderr.String(), "master key") {
		t.Errorf("second start made a master key again: %q", s.stderr.String())
	}
}

// TestServeRefusesInsecureIssuer: http is for loopback only, and the
// issuer is checked before anything is created.
func TestServeRefusesInsecureIssuer(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, nil, "serve", "--addr", "127.0.0.1:0", "--issuer", "http://login.example.com")
	if r.code != exitUsage || !strings.Contains(r.stderr, "loopback") || r.stdout != "" {
		t.Fatalf("serve --issuer http://login.example.com: %v; want exit 2 naming loopback", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "authstore.db")); err == nil {
		t.Errorf("serve with a refused issuer created the database")
	}
}

// getJSON GETs u and decodes its JSON body into out.
func getJSON(t *testing.T, ctx context.Context, u string, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(out); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// TestServeREADME runs the README's four commands from an empty folder:
// serve; in another shell user create and client create; then the
// authorize URL client create printed, followed as a browser would (the
// login page, its form, the callback), to the client's redirect URI with a
// code that the token endpoint exchanges for tokens with the secret and
// verifier client create printed.
func TestServeREADME(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir, nil)
	r := runWithInput(t, dir, nil, strings.NewReader("correct horse battery staple\n"),
		"user", "create", "--name", "Ada", "--email", "ada@example.com")
	if r.code != 0 {
		t.Fatalf("user create: %v", r)
	}
	r = run(t, dir, nil, "client", "create", "--name", "My app", "--redirect-uri", "http://127.0.0.1:9999/callback", "--issuer", s.issuer)
	if r.code != 0 {
		t.Fatalf("client create: %v", r)
	}
	authorize := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.issuer) + `/authorize\?\S+$`).FindString(r.stdout)
	secret := regexp.MustCompile(`client secret: (\S+)`).FindStringSubmatch(r.stdout)
	verifier := regexp.MustCompile(`code_verifier=(\S+)`).FindStringSubmatch(r.stdout)
	if authorize == "" || secret == nil || verifier == nil {
		t.Fatalf("client create printed no authorize URL, secret or verifier: %q", r.stdout)
	}
	au, err := url.Parse(authorize)
	if err != nil {
		t.Fatal(err)
	}

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar, Timeout: time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	redirect := func(res *http.Response, err error) *url.URL {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if err != nil {
			t.Fatalf("%s %s: status %d, no redirect: %v", res.Request.Method, res.Request.URL, res.StatusCode, err)
		}
		return loc
	}
	login := redirect(browser.Get(authorize))
	res, err := browser.Get(login.String())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	hidden := map[string]string{}
	for _, m := range regexp.MustCompile(`name="(id|csrf)" value="([^"]*)"`).FindAllStringSubmatch(string(page), -1) {
		hidden[m[1]] = html.UnescapeString(m[2])
	}
	if res.StatusCode != http.StatusOK || hidden["id"] == "" || hidden["csrf"] == "" || !strings.Contains(string(page), "My app") {
		t.Fatalf("login page %s: status %d, %q", login, res.StatusCode, page)
	}
	callback := redirect(browser.PostForm(s.issuer+"/login", url.Values{"id": {hidden["id"]}, "csrf": {hidden["csrf"]},
		"email": {"ada@example.com"}, "password": {"correct horse battery staple"}}))
	back := redirect(browser.Get(callback.String()))
	if got := back.Scheme + "://" + back.Host + back.Path; got != "http://127.0.0.1:9999/callback" || back.Query().Get("state") != au.Query().Get("state") {
		t.Fatalf("after login the browser goes to %s; want the redirect URI with the code and the state", back)
	}

	if got := au.Query().Get("scope"); got != "openid email profile offline_access" {
		t.Fatalf("authorize URL scope %q; want offline_access too, for the client's refresh_token grant", got)
	}
	var disc struct {
		Token    string `json:"token_endpoint"`
		UserInfo string `json:"userinfo_endpoint"`
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	getJSON(t, ctx, s.issuer+"/.well-known/openid-configuration", &disc)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, disc.Token, strings.NewReader(url.Values{
		"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {"http://127.0.0.1:9999/callback"},
		"code_verifier": {verifier[1]}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(au.Query().Get("client_id"), secret[1])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		IDToken      string `json:"id_token"`
		RefreshToken string `json:"refresh_token"`
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if err := json.Unmarshal(body, &tok); res.StatusCode != http.StatusOK || err != nil || tok.AccessToken == "" || tok.IDToken == "" || tok.RefreshToken == "" {
		t.Fatalf("token request: status %d, %s", res.StatusCode, body)
	}

	// The README's next steps: userinfo with the access token, then a
	// refresh.
	var info struct {
		Sub   string `json:"sub"`
		Email string `json:"email"`
	}
	ureq, err := http.NewRequestWithContext(ctx, http.MethodGet, disc.UserInfo, nil)
	if err != nil {
		t.Fatal(err)
	}
	ureq.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	res, err = http.DefaultClient.Do(ureq)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if err := json.Unmarshal(body, &info); res.StatusCode != http.StatusOK || err != nil || info.Email != "ada@example.com" || info.Sub == "" {
		t.Fatalf("userinfo: status %d, %s", res.StatusCode, body)
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodPost, disc.Token, strings.NewReader(url.Values{
		"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(au.Query().Get("client_id"), secret[1])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	var next struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(body, &next); res.StatusCode != http.StatusOK || err != nil || next.AccessToken == "" || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
		t.Fatalf("refresh: status %d, %s", res.StatusCode, body)
	}

	// The operator looks the provider's access token up: active, its
	// user and client, and a notice naming the provider. The ID token and
	// an access token whose claims were changed are unknown.
	r = runWithInput(t, dir, nil, strings.NewReader(next.AccessToken+"\n"), "token", "introspect", "-")
	if r.code != 0 || !regexp.MustCompile(`(?m)^active: +yes$`).MatchString(r.stdout) || !strings.Contains(r.stdout, info.Sub) ||
		!strings.Contains(r.stdout, au.Query().Get("client_id")) || !strings.Contains(r.stderr, "OpenID provider at "+s.issuer) {
		t.Errorf("token introspect of the provider's access token: %v; want active, its user and client, and a notice naming %s", r, s.issuer)
	}
	parts := strings.Split(next.AccessToken, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(claims), info.Sub, "00000000-0000-4000-8000-000000000000", 1))) + "." + parts[2]
	for name, token := range map[string]string{"ID token": tok.IDToken, "forged access token": forged} {
		r = runWithInput(t, dir, nil, strings.NewReader(token+"\n"), "token", "introspect", "-")
		if r.code != 0 || !regexp.MustCompile(`(?m)^state: +unknown$`).MatchString(r.stdout) || r.stderr != "" {
			t.Errorf("token introspect of the %s: %v; want state unknown and no notice", name, r)
		}
	}
	if code, rest := s.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("serve: exit %d, %q", code, rest)
	}
}
