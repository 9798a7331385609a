"""Live and replayed sources of execution records, all following `records.sources.base.Source`.

    sqs.SqsQueueSource         an SQS queue: peek (default) or consume
    sns.SnsTap                 an SNS topic through a temporary tagged queue
    eventbridge.EventBridgeTap an EventBridge bus through a temporary rule and queue
    replay.ReplaySource        saved files, folders and s3:// prefixes, instant or timed
    replay_worker              an instant replay's files read and decoded in a worker process
    file_messages              inputs read from files as Messages (what a replay sends)
    merge.MergedSource         several sources as one stream
    faults                     back-off and the classification of AWS errors
    taps                       tagging, clean-up and the orphan sweep shared by the taps

Import the submodules directly (this package imports nothing, so `records.sources.base` stays light).
"""
