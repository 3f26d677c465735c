package authstore_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/forgeauth/authstore"
	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/repositories"
	"github.com/stretchr/testify/require"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestSlogLoggerQuietOnExpectedOutcomes checks that expected outcomes (a
// duplicate email, no such row, a missing referent) are not logged as
// errors, that an unexpected error is, and that no bound value reaches the
// log.
func TestSlogLoggerQuietOnExpectedOutcomes(t *testing.T) {
	var buf syncBuffer
	ctx := context.Background()
	cfg := config.Default()
	cfg.DatabaseURL = "sqlite://" + filepath.Join(t.TempDir(), "log.db")
	s, err := authstore.Open(ctx, cfg, authstore.WithMigrate(), authstore.WithLogger(authstore.SlogLogger(slog.New(slog.NewTextHandler(&buf, nil)))))
	require.NoError(t, err)
	defer s.Close()
	buf = syncBuffer{}

	pw := "correct horse battery staple"
	in := repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw}
	_, err = s.Users.Create(ctx, in)
	require.NoError(t, err)
	_, err = s.Users.Create(ctx, in)
	require.ErrorIs(t, err, repositories.ErrDuplicate)
	_, err = s.Users.FindByEmail(ctx, "nobody@example.com")
	require.ErrorIs(t, err, repositories.ErrNotFound)
	_, _, err = s.Sessions.Create(ctx, "3f8e0c84-2b8e-4a39-9c1e-0e7f3a8b9d10", repositories.SessionInput{})
	require.ErrorIs(t, err, repositories.ErrMissingReferent)
	require.Empty(t, buf.String(), "an expected outcome was logged")

	err = s.DB().Exec("SELECT * FROM no_such_table WHERE secret = ?", "bound-secret-value").Error
	require.Error(t, err)
	out := buf.String()
	require.Contains(t, out, "no_such_table", "an unexpected error was not logged")
	require.Contains(t, out, "level=ERROR")
	require.NotContains(t, out, "bound-secret-value", "a bound value reached the log")
}

// TestWithNilClock checks that WithClock(nil) keeps time.Now instead of
// panicking at the first write (issue 11, class 10).
func TestWithNilClock(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default()
	cfg.OAuthStorage, cfg.AuthSessionStorage = config.StorageMemory, config.StorageMemory
	s, err := authstore.Open(ctx, cfg, authstore.WithClock(nil))
	require.NoError(t, err)
	defer s.Close()
	pw := "correct horse battery staple"
	u, err := s.Users.Create(ctx, repositories.UserInput{Name: "Ada", Email: "ada@example.com", Password: pw, PasswordConfirmation: pw})
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), u.CreatedAt, time.Minute)
}
