package authstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/forgeauth/authstore/models"
	"github.com/forgeauth/authstore/repositories"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// exampleRecoveryKey is a fixed recovery key for the example; generate
// yours with `openssl rand -base64 32`, separate from the master key.
const exampleRecoveryKey = "ZXhhbXBsZSByZWNvdmVyeSBrZXkgb2YgMzIgYnl0ZXM="

// authenticatorApp computes the code an authenticator app shows for secret.
func authenticatorApp(secret string, at time.Time) string {
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		log.Fatal(err)
	}
	return code
}

// Example_twoFactor is the README's "Two-factor authentication": enrol a
// TOTP factor, confirm it, then a login whose password is right asks for
// the second factor, and a replayed code is refused.
func Example_twoFactor() {
	ctx := context.Background()
	store := openExample(ctx, map[string]string{
		"AUTH_ENABLE_TWO_FACTOR":   "true",
		"AUTHSTORE_ENCRYPTION_KEY": exampleMasterKey,   // seals the TOTP secrets
		"AUTHSTORE_RECOVERY_KEY":   exampleRecoveryKey, // keys the recovery codes' digests
	})
	defer store.Close()
	user, err := store.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com",
		Password: "correct horse battery", PasswordConfirmation: "correct horse battery"})
	if err != nil {
		log.Fatal(err)
	}

	// Enrolment: show the URI as a QR code, once; the factor counts when
	// the user proves their app has it.
	secret, uri, err := store.TwoFactor.Enrol(ctx, user.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(uri[:len("otpauth://totp/")])
	code := authenticatorApp(secret, store.Now())
	recoveryCodes, err := store.TwoFactor.Confirm(ctx, user.ID, code)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(recoveryCodes), "recovery codes, shown once")

	// A caller that ignores two-factor gets no login.
	_, err = store.Users.Authenticate(ctx, "ada@example.com", "correct horse battery")
	fmt.Println(errors.Is(err, repositories.ErrSecondFactorRequired))

	// Login: the password, then the second factor.
	res, challenge, err := store.Users.Login(ctx, "ada@example.com", "correct horse battery")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("second factor required:", res.SecondFactorRequired)
	// The confirmation's code again: its time step is spent.
	_, _, err = store.TwoFactor.CompleteLogin(ctx, challenge, code, repositories.SessionInput{})
	fmt.Println(errors.Is(err, repositories.ErrUsed), errors.Is(err, repositories.ErrInvalidCredentials))
	session, _, err := store.TwoFactor.CompleteLogin(ctx, challenge, recoveryCodes[0], repositories.SessionInput{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(session.AssuranceLevel == models.AssuranceTwoFactor)
	// Step-up: a password-only session proves the second factor before a
	// sensitive action, then gets a new token (a copy of the old one does
	// not carry the raised level).
	plain, oldToken, err := store.Sessions.Create(ctx, user.ID, repositories.SessionInput{})
	if err != nil {
		log.Fatal(err)
	}
	raised, err := store.TwoFactor.StepUp(ctx, plain.ID, recoveryCodes[1])
	if err != nil {
		log.Fatal(err)
	}
	raised, token, err := store.Sessions.Renew(ctx, raised.ID)
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.Sessions.Find(ctx, oldToken)
	fmt.Println(raised.AssuranceLevel == models.AssuranceTwoFactor, token != oldToken, errors.Is(err, repositories.ErrNotFound))
	status, err := store.TwoFactor.Status(ctx, user.ID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(status.RecoveryCodesLeft, "recovery codes left")
	// Output:
	// otpauth://totp/
	// 10 recovery codes, shown once
	// true
	// second factor required: true
	// true true
	// true
	// true true true
	// 8 recovery codes left
}
