import { JobName, QueueName } from '../delivery.constants';
import { jobHandlerProblems } from './job-handlers.check';

describe(jobHandlerProblems.name, () => {
  const email = { queue: QueueName.Email, jobNames: [JobName.DeliverVerification] };
  const sms = { queue: QueueName.Sms, jobNames: [JobName.DeliverVerification] };

  it('should accept one processor per configured queue with every job handled once', () => {
    expect(jobHandlerProblems([QueueName.Email, QueueName.Sms], [email, sms])).toEqual([]);
    expect(jobHandlerProblems([QueueName.Sms], [sms])).toEqual([]);
  });

  it('should report a configured queue without a processor', () => {
    expect(jobHandlerProblems([QueueName.Email, QueueName.Sms], [email])).toEqual([
      'queue sms has 0 processors (expected 1)',
      'job deliver-verification on queue sms has 0 handlers (expected 1)',
    ]);
  });

  it('should report two handlers for one job', () => {
    expect(jobHandlerProblems([QueueName.Email], [email, email])).toEqual([
      'queue email has 2 processors (expected 1)',
      'job deliver-verification on queue email has 2 handlers (expected 1)',
    ]);
  });

  it('should report a processor without the job handler and one for an unconfigured queue', () => {
    expect(jobHandlerProblems([QueueName.Email], [{ queue: QueueName.Email, jobNames: [] }, sms])).toEqual([
      'job deliver-verification on queue email has 0 handlers (expected 1)',
      'processor for queue sms, which is not in WORKER_QUEUES',
    ]);
  });

  it('should report a handler for a job name the queue does not carry', () => {
    expect(
      jobHandlerProblems(
        [QueueName.Email],
        [{ queue: QueueName.Email, jobNames: [JobName.DeliverVerification, 'other' as JobName] }],
      ),
    ).toEqual(['queue email has a handler for unknown job other']);
  });
});
