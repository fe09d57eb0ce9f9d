package ping_test

import "errors"

func asFailure(err error, target any) bool { return errors.As(err, target) }
