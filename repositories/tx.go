package repositories

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/forgeauth/authstore/config"
	"github.com/forgeauth/authstore/envelope"
	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/internal/dberr"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// Options are what every repository needs besides its *gorm.DB. A Store
// builds them from its validated configuration; code that builds a
// repository itself passes a Config that config.Config.Validate accepts.
type Options struct {
	// Config holds the lifetimes and policies (AUTH_SESSION_LIFETIME, ...).
	Config config.Config
	// Hasher hashes and verifies passwords and client secrets; nil means
	// hooks.DefaultHasher().
	Hasher *hooks.Hasher
	// Encryption holds the master keys of reversible secrets (the private
	// signing keys); nil means none: no signing key can be made or sign.
	Encryption envelope.Provider
	// SigningKeys, when set, signs access tokens with its current key and
	// validates them by kid; nil keeps HS256 with Config.JWTSecret alone. A
	// Store sets it to its Keys.
	SigningKeys *SigningKeys
}

// base is embedded by every repository: the database, the options, and the
// transaction helpers.
type base struct {
	db   *gorm.DB
	opts Options
}

// newBase returns a base over a session of db with authstore's settings
// (see session), keeping db's clock and logger.
func newBase(db *gorm.DB, opts Options) base {
	if opts.Hasher == nil {
		opts.Hasher = hooks.DefaultHasher()
	}
	return base{db: session(db, db.NowFunc, db.Logger, opts.Hasher), opts: opts}
}

// session returns a session of db (a handle, or a transaction, which it
// stays in) that behaves as a Store's DB whatever db's own configuration:
// clock reads converted to UTC at microsecond resolution (a host's
// gorm.Config has GORM's default, local time, and SQLite compares times as
// text), errors translated (ErrDuplicate, ErrMissingReferent), the given
// logger, and the given hasher for the model hooks. db itself is not
// modified.
func session(db *gorm.DB, clock func() time.Time, l logger.Interface, h *hooks.Hasher) *gorm.DB {
	if clock == nil {
		clock = time.Now
	}
	s := db.Session(&gorm.Session{
		NewDB:   true,
		Logger:  l,
		NowFunc: func() time.Time { return clock().UTC().Truncate(time.Microsecond) },
	})
	s.Config.TranslateError = true
	return models.WithHasher(s, h)
}

func (b base) hasher() *hooks.Hasher { return b.opts.Hasher }

func (b base) cfg() config.Config { return b.opts.Config }

// now reads the database's clock (GORM's NowFunc) in UTC at microsecond
// resolution, whatever clock the handle has: a host's own *gorm.DB given to
// WithTx has GORM's default, local time, and SQLite compares times as text.
// Calls that read before their transaction use it; a transaction gets its
// reading from transaction.
func (b base) now() time.Time { return b.db.NowFunc().UTC().Truncate(time.Microsecond) }

// conn returns the database bound to ctx, for single statements.
func (b base) conn(ctx context.Context) *gorm.DB { return b.db.WithContext(ctx) }

// conflictAttempts is how many times transaction runs a transaction the
// database rolled back as a deadlock or serialization victim.
const conflictAttempts = 4

// transaction runs fn in one transaction bound to ctx (a savepoint when the
// repository was made WithTx inside a caller's transaction), handing it the
// one clock reading the transaction uses.
//
// A transaction of its own that the database rolls back as a deadlock or
// serialization victim (dberr.Conflict) is run again from the start, up to
// conflictAttempts times in all, after a short random pause: nothing of it
// committed, and fn's only effects are its statements and its result. A
// savepoint is never run again (the caller's transaction is aborted on
// PostgreSQL, and its other statements are the caller's); the error goes
// back to the caller, which Translate makes ErrConcurrentChange. An error
// after ctx's deadline passed is returned wrapping context.DeadlineExceeded
// (Translate: ErrTimeout), whatever the driver made of the interruption.
// A transaction whose BEGIN failed because the connection was lost is
// begun once more (database/sql takes another connection): no statement of
// it ran. Once a statement of the body may have been sent, a lost
// connection is returned (ErrConnectionLost), never retried.
func (b base) transaction(ctx context.Context, fn func(tx *gorm.DB, now time.Time) error) error {
	_, nested := b.db.Statement.ConnPool.(gorm.TxCommitter)
	lostAtBegin := false
	for attempt := 1; ; attempt++ {
		began := false
		err := b.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			began = true
			return fn(tx, b.now())
		})
		if err == nil {
			return nil
		}
		if !began && !nested && !lostAtBegin && dberr.Classify(err) == dberr.ConnectionLost {
			// BEGIN itself failed on a connection the server had closed:
			// nothing of the transaction ran; once more, on another.
			lostAtBegin = true
			attempt--
			continue
		}
		if cause := ctx.Err(); cause != nil && !errors.Is(err, cause) && (dberr.Classify(err) != dberr.Other || errors.Is(err, sql.ErrTxDone)) {
			return fmt.Errorf("%w (%w)", err, cause)
		}
		if nested || attempt == conflictAttempts || dberr.Classify(err) != dberr.Conflict {
			return err
		}
		pause := time.Duration(1+rand.IntN(4*attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(pause):
		}
	}
}

// noAccount is the id no user has (the nil UUID, which models.NewUUID
// never makes and Users.Import refuses): the calls that must cost the same
// for an unknown account run their known path's statements on it.
const noAccount models.UUID = "00000000-0000-0000-0000-000000000000"

// lockUser reads the user matching query and takes the account's lock: the
// user's row, held until the transaction ends (PostgreSQL FOR NO KEY
// UPDATE, which still lets other transactions insert rows that refer to
// the user; MySQL's dialect in a Store writes it FOR UPDATE, its only
// exclusive row lock; SQLite's immediate transactions already hold the
// database's one write lock, and its dialect leaves the clause out). A transaction
// that writes rows of one user in more than one table calls it first, so
// that such transactions queue on the user instead of meeting in opposite
// orders (the lock order in the package documentation). It returns
// gorm.ErrRecordNotFound when no user matches.
func lockUser(tx *gorm.DB, query string, args ...any) (*models.User, error) {
	var u models.User
	err := tx.Session(&gorm.Session{NewDB: true}).Clauses(clause.Locking{Strength: "NO KEY UPDATE"}).Where(query, args...).Take(&u).Error
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// inTx is transaction for a body that returns its outcome: the value comes
// back only when the transaction committed.
func inTx[T any](ctx context.Context, b base, fn func(tx *gorm.DB, now time.Time) (T, error)) (T, error) {
	var out T
	err := b.transaction(ctx, func(tx *gorm.DB, now time.Time) error {
		var err error
		out, err = fn(tx, now)
		return err
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// withTx returns a copy of b that runs in tx, typically a transaction the
// caller opened, on the Store's handle or its own over the same database:
// the copy keeps b's configuration (clock, logger, error translation,
// table names and hasher; SECURITY 35) and takes only tx's connection, so
// a host's transaction behaves as the Store's.
func (b base) withTx(tx *gorm.DB) base {
	s := b.db.Session(&gorm.Session{NewDB: true, Context: tx.Statement.Context})
	s.Statement.ConnPool = tx.Statement.ConnPool
	return base{db: s, opts: b.opts}
}
