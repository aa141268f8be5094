package cache

// Stats counts hits and misses.
type Stats struct {
	Hits, Misses int
}

// Purge sets the counters back to zero.
func (s *Stats) Purge() {
	s.Hits, s.Misses = 0, 0
}

// ResetStats clears the counters of every shard.
func ResetStats(shards []*Stats) {
	for i := range shards {
		var s *Stats = shards[i]
		s.Purge()
	}
}
