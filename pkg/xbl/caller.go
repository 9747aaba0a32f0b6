package xbl

// Caller is who made a request, as its verified token says.
type Caller struct {
	XUID     XUID
	UserHash string
	Gamertag string
	TitleID  string
	DeviceID string
	Sandbox  string
	// Server marks a caller with server-level access: a game server or
	// service acting for many users.
	Server bool
}
