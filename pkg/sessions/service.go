package sessions

import (
	"time"

	"github.com/xblread/xblread/pkg/xbl"
)

// Service is the session directory of one deployment: queries (Find) and
// the writes and reads of one session document (Put, Get), over the
// dependencies it holds. Every rule that needs the time asks Now, the one
// clock; adapters keep none.
type Service struct {
	Configs xbl.ConfigReader // SCID configurations, usually a cache
	Reader  Reader           // queries; nil where the service only writes
	Store   Store            // session documents; nil where it only queries
	Queue   Queue            // where writes that lost a race wait to be combined; nil: they retry
	Handles HandleStore      // handles; nil where the service serves none
	Now     func() time.Time // time.Now when nil
}

// now is the service's clock.
func (s *Service) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}
