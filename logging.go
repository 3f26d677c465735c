package authstore

import (
	"context"
	"errors"
	"log"
	"log/slog"
	"os"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// loggerConfig is the GORM logger configuration authstore uses: warnings
// and errors, slow queries over 200ms, SQL with placeholders only, never
// bound values (which hold digests and hashes).
var loggerConfig = logger.Config{
	SlowThreshold:             200 * time.Millisecond,
	LogLevel:                  logger.Warn,
	IgnoreRecordNotFoundError: true,
	ParameterizedQueries:      true,
}

// Logger returns the GORM logger authstore uses by default: warnings and
// errors to standard error, slow queries over 200ms, SQL printed with
// placeholders only, never bound values (which hold digests and hashes),
// and expected outcomes (see QuietExpected) not logged at all.
func Logger() logger.Interface {
	return QuietExpected(logger.New(log.New(os.Stderr, "authstore: ", log.LstdFlags), loggerConfig))
}

// SlogLogger returns a GORM logger that writes to l with authstore's
// settings (Logger's): level Warn, slow queries over 200ms, SQL with
// placeholders only, expected outcomes not logged. Pass it to WithLogger:
//
//	store, err := authstore.New(db, authstore.WithLogger(authstore.SlogLogger(slog.Default())))
func SlogLogger(l *slog.Logger) logger.Interface {
	return QuietExpected(logger.NewSlogLogger(l, loggerConfig))
}

// QuietExpected wraps a GORM logger so that a statement whose error is an
// expected outcome, one the repositories turn into a sentinel a caller
// handles (no row, a duplicate, a missing referent), is not logged as an
// error: a duplicate email at registration is the caller's answer, not an
// operator's alarm. Every other statement is logged as l would. The
// *gorm.DB must translate errors (a Store's DB does).
func QuietExpected(l logger.Interface) logger.Interface { return quiet{l} }

type quiet struct{ logger.Interface }

func (q quiet) LogMode(level logger.LogLevel) logger.Interface {
	return quiet{q.Interface.LogMode(level)}
}

func (q quiet) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if expected(err) {
		err = nil // still traced at Info level and as a slow query, never as an error
	}
	q.Interface.Trace(ctx, begin, fc, err)
}

// ParamsFilter keeps the wrapped logger's filter (bound values left out).
func (q quiet) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := q.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, params
}

// expected reports whether err is an outcome the repositories expect.
func expected(err error) bool {
	return errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, gorm.ErrDuplicatedKey) || errors.Is(err, gorm.ErrForeignKeyViolated)
}
