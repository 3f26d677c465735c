// Package demo walks authstore's main flows against a real database, for
// the `authstore demo` command: registration, login, sessions, email
// verification, password reset and logout, two-factor enrolment and a
// second-factor login, then the OAuth2 flows. It sends
// nothing: the tokens a real application would email are used directly.
//
// What a run creates is marked so that Find and Cleanup (`authstore demo
// --cleanup`) can remove it later: the user's email is at EmailDomain, the
// clients' names begin with ClientPrefix.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Step is one thing the demo did.
type Step struct {
	Name   string `json:"step"`
	Detail string `json:"detail"`
}

// Report is what the demo did. Every plaintext it generated is a string
// under a key ending in password, token, secret or code, so an operator can
// check that none of them is stored.
type Report struct {
	Dialect string `json:"dialect"`
	UserID  string `json:"user_id"`
	Email   string `json:"email"`
	// ClientIDs are the clients the run registered.
	ClientIDs []string          `json:"client_ids"`
	Secrets   map[string]string `json:"-"`
	Steps     []Step            `json:"steps"`
	// Notes are what the run did besides the flows (a development master
	// key it generated).
	Notes []string `json:"notes,omitempty"`
}

// MarshalJSON flattens the generated plaintexts into the top-level object.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	b, err := json.Marshal(plain(r))
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, v := range r.Secrets {
		m[k] = v
	}
	return json.Marshal(m)
}

// runner carries the report and the optional progress writer.
type runner struct {
	s   *authstore.Store
	rep *Report
	out io.Writer
}

func (r *runner) step(name, format string, args ...any) {
	st := Step{Name: name, Detail: fmt.Sprintf(format, args...)}
	r.rep.Steps = append(r.rep.Steps, st)
	if r.out != nil {
		fmt.Fprintf(r.out, "%2d. %-28s %s\n", len(r.rep.Steps), st.Name, st.Detail)
	}
}

func (r *runner) secret(key, value string) { r.rep.Secrets[key] = value }

// Run migrates the Store's database and walks the flows, printing each step
// to progress when it is not nil. It makes a new user each time, so it can
// run any number of times on the same database.
func Run(ctx context.Context, s *authstore.Store, progress io.Writer) (*Report, error) {
	r := &runner{s: s, out: progress, rep: &Report{Dialect: s.DB().Dialector.Name(), ClientIDs: []string{}, Secrets: map[string]string{}}}
	if err := s.Migrate(ctx); err != nil {
		return nil, err
	}
	r.step("migrate", "%s schema is up to date", r.rep.Dialect)
	ctx = models.WithRequestMeta(ctx, models.RequestMeta{IP: "203.0.113.7", UserAgent: "authstore-demo/1"})
	if s.Config().EncryptionKey != "" {
		k, made, err := signingKey(ctx, s)
		if err != nil {
			return r.rep, err
		}
		verb := "is current"
		if made {
			verb = "made; private key stored encrypted under the master key"
		}
		r.step("signing key", "%s key %s %s: access tokens are RFC 9068 JWTs", k.Algorithm, k.ID, verb)
	}
	if err := r.auth(ctx); err != nil {
		return r.rep, err
	}
	if err := r.oauth(ctx); err != nil {
		return r.rep, err
	}
	return r.rep, nil
}

// signingKey returns the current signing key, making one when there is
// none, and whether it made it.
func signingKey(ctx context.Context, s *authstore.Store) (*models.SigningKey, bool, error) {
	keys, err := s.Keys.List(ctx)
	if err != nil {
		return nil, false, err
	}
	for i := range keys {
		if keys[i].State == models.KeyStateCurrent {
			return &keys[i], false, nil
		}
	}
	k, err := s.Keys.Rotate(ctx, repositories.RotateOptions{Immediately: true})
	return k, err == nil, err
}

func randomSecret() (string, error) { return hooks.NewToken() }

func (r *runner) auth(ctx context.Context) error {
	s := r.s
	tag, err := hooks.NewToken()
	if err != nil {
		return err
	}
	email := fmt.Sprintf("demo+%s@%s", tag[:10], EmailDomain)
	password, err := randomSecret()
	if err != nil {
		return err
	}
	r.secret("password", password)
	u, err := s.Users.Create(ctx, repositories.UserInput{Name: "Demo User", Email: email, Password: password, PasswordConfirmation: password})
	if err != nil {
		return err
	}
	r.rep.UserID, r.rep.Email = u.ID.String(), u.Email
	r.step("register", "user %s <%s>, password stored as Argon2id", u.ID, u.Email)

	wrong := password + "x"
	r.secret("wrong_password", wrong)
	if _, err := s.Users.Authenticate(ctx, email, wrong); !errors.Is(err, repositories.ErrInvalidCredentials) {
		return fmt.Errorf("demo: wrong password was not refused: %v", err)
	}
	r.step("failed login", "wrong password refused (invalid credentials), failure logged")

	if _, err := s.Users.Authenticate(ctx, email, password); err != nil {
		return err
	}
	sess, token, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{})
	if err != nil {
		return err
	}
	r.secret("session_token", token)
	r.step("login", "session %s created, token returned once, digest stored", sess.ID)

	found, err := s.Sessions.Find(ctx, token)
	if err != nil {
		return err
	}
	r.step("session lookup", "session %s valid until %s", found.ID, found.ExpiresAt.UTC().Format("2006-01-02 15:04:05Z"))

	verification, vtoken, err := s.EmailVerifications.Issue(ctx, u.ID)
	if err != nil {
		return err
	}
	r.secret("verification_token", vtoken)
	if _, err := s.EmailVerifications.Consume(ctx, vtoken); err != nil {
		return err
	}
	r.step("email verification", "token issued for %s and consumed (an application would email it; the demo sends nothing); email verified", verification.Email)

	var resetToken string
	err = s.PasswordResets.Request(ctx, email, func(_ context.Context, _, tok string) error { resetToken = tok; return nil })
	if err != nil {
		return err
	}
	r.secret("reset_token", resetToken)
	r.step("password reset request", "reset token issued, not sent (expires in %s)", s.Config().PasswordResetLifetime)

	newPassword, err := randomSecret()
	if err != nil {
		return err
	}
	r.secret("new_password", newPassword)
	if _, err := s.PasswordResets.Reset(ctx, resetToken, newPassword, newPassword); err != nil {
		return err
	}
	if _, err := s.Sessions.Find(ctx, token); !errors.Is(err, repositories.ErrNotFound) {
		return fmt.Errorf("demo: session survived the password reset: %v", err)
	}
	r.step("password reset", "password changed; every session of the user ended")

	if _, err := s.Users.Authenticate(ctx, email, newPassword); err != nil {
		return err
	}
	sess2, token2, err := s.Sessions.Create(ctx, u.ID, repositories.SessionInput{Remember: true})
	if err != nil {
		return err
	}
	r.secret("second_session_token", token2)
	if err := s.Sessions.Delete(ctx, token2); err != nil {
		return err
	}
	if _, err := s.Sessions.Find(ctx, token2); !errors.Is(err, repositories.ErrNotFound) {
		return fmt.Errorf("demo: session survived logout: %v", err)
	}
	r.step("logout", "logged in with the new password (session %s), then logged out", sess2.ID)
	if !s.Config().EnableTwoFactor || s.Config().EncryptionKey == "" {
		r.step("two-factor", "skipped: needs AUTH_ENABLE_TWO_FACTOR and AUTHSTORE_ENCRYPTION_KEY")
		return nil
	}
	return r.twoFactor(ctx, u, newPassword)
}

// twoFactor enrols a TOTP factor for u, confirms it, and logs in with the
// password and a second factor: the TOTP code is refused as a replay
// (its step was spent by the confirmation), a recovery code completes the
// login.
func (r *runner) twoFactor(ctx context.Context, u *models.User, password string) error {
	s := r.s
	secret, _, err := s.TwoFactor.Enrol(ctx, u.ID)
	if err != nil {
		return err
	}
	r.secret("totp_secret", secret)
	r.step("two-factor enrolment", "TOTP secret made (RFC 6238, SHA-1, 6 digits, 30 s), stored sealed under the master key, bound to its row")
	code, err := totp.GenerateCodeCustom(secret, s.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return err
	}
	codes, err := s.TwoFactor.Confirm(ctx, u.ID, code)
	if err != nil {
		return err
	}
	for i, c := range codes {
		r.secret(fmt.Sprintf("recovery_%02d_code", i+1), c)
	}
	r.step("two-factor confirmation", "factor confirmed with a TOTP code; %d recovery codes shown once, stored as HMAC-SHA-256 digests", len(codes))

	if _, err := s.Users.Authenticate(ctx, u.Email, password); !errors.Is(err, repositories.ErrSecondFactorRequired) {
		return fmt.Errorf("demo: a password alone logged in an account with a second factor: %v", err)
	}
	res, challenge, err := s.Users.Login(ctx, u.Email, password)
	if err != nil {
		return err
	}
	if !res.SecondFactorRequired {
		return errors.New("demo: login asked for no second factor")
	}
	r.secret("challenge_token", challenge)
	r.step("login, first factor", "password verified; a second factor is required (challenge valid until %s)", res.ChallengeExpiresAt.UTC().Format("15:04:05Z"))
	if _, _, err := s.TwoFactor.CompleteLogin(ctx, challenge, code, repositories.SessionInput{}); !errors.Is(err, repositories.ErrUsed) {
		return fmt.Errorf("demo: a replayed TOTP code was not refused: %v", err)
	}
	r.step("replayed code", "the confirmation's TOTP code refused: its time step was used already")
	sess, token, err := s.TwoFactor.CompleteLogin(ctx, challenge, codes[0], repositories.SessionInput{})
	if err != nil {
		return err
	}
	r.secret("two_factor_session_token", token)
	st, err := s.TwoFactor.Status(ctx, u.ID)
	if err != nil {
		return err
	}
	r.step("login, second factor", "recovery code accepted once; session %s at assurance level %d; %d recovery codes left", sess.ID, sess.AssuranceLevel, st.RecoveryCodesLeft)
	return nil
}
