package repositories

import (
	"context"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/hooks"
	"gorm.io/gorm"
)

// Options are what every repository needs besides its *gorm.DB.
type Options struct {
	// Config holds the lifetimes and policies (AUTH_SESSION_LIFETIME, ...).
	Config config.Config
	// Hasher hashes and verifies passwords and client secrets; nil means
	// hooks.DefaultHasher().
	Hasher *hooks.Hasher
}

// base is embedded by every repository: the database, the options, and the
// transaction helpers. Its clock is the database's NowFunc (UTC,
// microseconds), read once per transaction.
type base struct {
	db   *gorm.DB
	opts Options
}

func newBase(db *gorm.DB, opts Options) base {
	if opts.Hasher == nil {
		opts.Hasher = hooks.DefaultHasher()
	}
	return base{db: db, opts: opts}
}

func (b base) hasher() *hooks.Hasher { return b.opts.Hasher }

func (b base) cfg() config.Config { return b.opts.Config }

// now returns the current time from the database's clock.
func (b base) now() time.Time { return b.db.NowFunc() }

// conn returns the database bound to ctx, for single statements.
func (b base) conn(ctx context.Context) *gorm.DB { return b.db.WithContext(ctx) }

// transaction runs fn in one transaction bound to ctx (a savepoint when the
// repository was made WithTx inside a caller's transaction).
func (b base) transaction(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return b.db.WithContext(ctx).Transaction(fn)
}

// withTx returns a copy of b over tx.
func (b base) withTx(tx *gorm.DB) base { return base{db: tx, opts: b.opts} }
