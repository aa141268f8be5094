package jobs

import "log"

// Drain runs every job of q with run, logging failures.
func Drain(q *Queue, run func(Job) error) {
	for q.Len() > 0 {
		job, _ := q.Pop()
		if err := run(job); err != nil {
			log.Printf("job %d (%s): %v", job.ID, job.Name, err)
		}
	}
}

// Retry puts the first job back at the end of the queue.
func Retry(q *Queue) {
	if job, ok := q.Pop(); ok {
		q.Push(job)
	}
}
