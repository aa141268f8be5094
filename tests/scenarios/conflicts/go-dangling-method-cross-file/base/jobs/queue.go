// Package jobs runs background work in order.
package jobs

// Job is one unit of background work.
type Job struct {
	ID   int
	Name string
}

// Queue holds jobs first in, first out.
type Queue struct {
	jobs []Job
}

// Push appends a job at the end of the queue.
func (q *Queue) Push(job Job) {
	q.jobs = append(q.jobs, job)
}

// Pop takes the first job, if any.
func (q *Queue) Pop() (Job, bool) {
	if len(q.jobs) == 0 {
		return Job{}, false
	}
	job := q.jobs[0]
	q.jobs = q.jobs[1:]
	return job, true
}

// Len is the number of waiting jobs.
func (q *Queue) Len() int {
	return len(q.jobs)
}
