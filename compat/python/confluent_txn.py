"""confluent-kafka (librdkafka) transactional producer against raftka, for the compat suite.

Usage: confluent_txn.py BOOTSTRAP TOPIC TRANSACTIONAL_ID

Commits one transaction, aborts one, commits a last one, then reads the topic from the start
with isolation.level read_committed and read_uncommitted. Prints one JSON object:
{"read_committed": [values...], "read_uncommitted": [values...]}.
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition


def transaction(producer, topic, values, commit):
    producer.begin_transaction()
    for v in values:
        producer.produce(topic, value=v.encode(), partition=0)
    if commit:
        producer.commit_transaction(30)
    else:
        producer.flush(30)  # the records are in the log before the abort
        producer.abort_transaction(30)


def read(bootstrap, topic, isolation, until):
    consumer = Consumer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent-txn', 'group.id': 'raftka-compat-txn-unused',
        'enable.auto.commit': False, 'isolation.level': isolation, 'enable.partition.eof': False})
    consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    values = []
    deadline = time.time() + 60
    try:
        while until not in values:
            if time.time() > deadline:
                raise RuntimeError('%s: %s not seen in 60 s; got %s' % (isolation, until, values))
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error() is not None:
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    continue
                raise RuntimeError(str(msg.error()))
            values.append(msg.value().decode())
    finally:
        consumer.close()
    return values


def main():
    bootstrap, topic, transactional_id = sys.argv[1], sys.argv[2], sys.argv[3]
    producer = Producer({
        'bootstrap.servers': bootstrap, 'client.id': 'raftka-compat-confluent-txn', 'transactional.id': transactional_id,
        'transaction.timeout.ms': 60000, 'linger.ms': 5})
    producer.init_transactions(30)
    transaction(producer, topic, ['committed-%d' % i for i in range(5)], True)
    transaction(producer, topic, ['aborted-%d' % i for i in range(5)], False)
    transaction(producer, topic, ['end'], True)
    producer.flush(30)
    print(json.dumps({
        'read_committed': read(bootstrap, topic, 'read_committed', 'end'),
        'read_uncommitted': read(bootstrap, topic, 'read_uncommitted', 'end'),
    }))


if __name__ == '__main__':
    main()
