// Package store is how the service reaches its one DynamoDB table: the
// client and its retries, the table's definition, the key of every item
// kind (the layout below), the item structs of configurations and
// profiles (encoded with attributevalue), projections derived from
// item structs, batched reads and writes, the read of a SCID's
// configuration, and DynamoDB's size limits (checked before a write,
// since DynamoDB Local does not enforce them). Its subpackages are the
// adapters of the domain packages' ports: statstore (statistics, with
// the statistics item struct), sessionstore (sessions, with the item structs of a session's document,
// head and index entries), ratestore (the rate limiter's counts), rtastore
// (real-time activity's connections), rankstore (the leaderboards'
// ranking), and
// memstore, every port in memory.
//
// # Item layout
//
// Partition key "pk" and sort key "sk", both strings; SCIDs are always
// lower-case inside keys. Each row names the function that builds the
// key ([0] and [1] are the two keys of a pair); TestLayout holds the
// table to those functions.
//
//	key                pk                                sk                            holds
//	StatsKey           {xuid}#{scid}                     stats                         a user's statistics for one SCID (map s: name in lower case → {t: type, v: value, n: name as written}), gamertag, and a game's rev and ts
//	ProfileKey         profile#{xuid}                    profile                       a user's gamertag
//	ConfigKey          scid#{scid}                       config                        a SCID's owning titles, sandboxes, stat access (map s: name in lower case → open or restricted) and leaderboards (list leaderboards of {stat, sort, type}, left out when none)
//	MembershipKeys[0]  {xuid}#{scid}                     m#{order}#{template}#{name}   a user's membership in a session, newest first across templates; i the member index
//	MembershipKeys[1]  {xuid}#{scid}                     mt#{template}#{order}#{name}  the same membership, newest first within one template
//	KeywordKeys[0]     keyword#{scid}#{keyword}          k#{order}#{template}#{name}   a keyword's index entry for a session, newest first across templates
//	KeywordKeys[1]     keyword#{scid}#{keyword}          kt#{template}#{order}#{name}  the same entry, newest first within one template
//	SessionKey         session#{scid}#{template}#{name}  doc                           the session document (JSON) and its ETag: what a session GET and PUT read
//	HeadKey            session#{scid}#{template}#{name}  head                          what a session query reads of the session (version, visibility, seats, join restriction, keywords, turn, members), written with the document in one transaction
//	ClaimKey           session#{scid}#{template}#{name}  claim                         the write that holds the version of the document it read (claim, etag, claimUntil), deleted by that write's commit
//	QueuedKey          session#{scid}#{template}#{name}  wait#{id}                     a write that lost a race for the session, waiting for a commit to apply it (w), then its reply (replied, outcome, refused, kind, message); ttl
//	RateKey            rate#{service}#{title}#{xuid}     {window}                      one caller's request counts in one sustain window: t (total), b0…b19 (burst slots), ttl
//	HandleKey          handle#{id}                       handle                        a handle (activity, invite or transfer): its session, owner, title, invitee, times; ttl
//	ActivityKey        {xuid}#{scid}                     activity#{title}              a player's activity for one title: a copy of its activity handle, what the activities query reads; ttl
//	ConnectionKey      rta#{id}                          conn                          a real-time activity connection: its player, title, opening time, subscriptions (map subs: id → resource), next subscription id and version; ttl
//
// The leaderboards' items are rankstore's: a board's entries, in order,
// under lbe#{scid}#{stat}#{lane} (4 lanes by player), and its counters
// under lbc#{scid}#{stat} (the coarse counters) and
// lbc#{scid}#{stat}#{bucket} (the fine or value counters of one parent
// bucket). Its package doc has their layout.
//
// {order} is the session's start time as 19 digits that sort newest first
// (Order); {keyword} is in lower case (keywords are case-insensitive);
// {window} is the start of the window in Unix seconds. Membership and
// keyword entries may carry a copy of the session's head, so that a query
// needs nothing else.
package store
