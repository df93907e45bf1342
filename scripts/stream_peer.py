#!/usr/bin/env python3
"""Developer tool: the image pipeline a Python team would write, RadStream's peer in
`radstream benchmark stream --scenarios python-peer,...`. Not part of the product.

What it does, as a performance-minded Python team would do it: confluent-kafka consumes the image
topic in batches of up to 256 events (offsets are not committed to Kafka: like RadStream, it keeps
them in PostgreSQL, read back on assignment); PIL decodes each inline PNG/JPEG and resizes it to
the model's side; PyTorch runs RadStream's own shipped pneumonia model (the reference residual CNN,
its safetensors weights loaded into the same network) in eval mode, channels-last, under
inference_mode, on 2 threads (its probabilities agree with `radstream classify`'s to 1e-6 on the
same PNGs); psycopg 3 writes each batch's image rows, predictions and consumer
offsets in one transaction (statements pipelined by executemany). Events it cannot read go to the
dead_letters table. It does less than `radstream serve` with the pneumonia model alone: no
Grad-CAM map, no thumbnails kept, no dead-letter topic, no metrics or health endpoint.

Setup, once (CPU wheels are enough):
    pip install torch --index-url https://download.pytorch.org/whl/cpu
    pip install confluent-kafka "psycopg[binary]" pillow safetensors numpy

Run through the benchmark, which makes the topics and the database, publishes the events and
measures the peer exactly as it measures the daemon (first committed batch to last, VmHWM):
    swift build -c release --product radstream
    .build/release/radstream benchmark stream --events 5000 --scenarios images-pneumonia-only,python-peer,mixed
"""
import argparse
import base64
import hashlib
import io
import json
import signal
import sys

import numpy as np
import psycopg
import torch
from confluent_kafka import OFFSET_BEGINNING, Consumer
from PIL import Image
from reference_cnn import ReferenceCNN
from safetensors import safe_open
from safetensors.torch import load_file


def load_model(path):
    with safe_open(path, "pt") as checkpoint:
        metadata = checkpoint.metadata()
    network, settings = json.loads(metadata["network"]), json.loads(metadata["classifier"])
    model = ReferenceCNN(network["channels"], network["classes"])
    missing, unexpected = model.load_state_dict(load_file(path), strict=False)
    # PyTorch's batch norms count their updates; RadStream's checkpoints have no such counter.
    if unexpected or any(not name.endswith("num_batches_tracked") for name in missing):
        sys.exit(f"{path} does not fit the reference network: missing {missing}, unexpected {unexpected}")
    return model.eval().to(memory_format=torch.channels_last), settings


def pixels(event, side, mean, deviation):
    """The event's image as the model reads it, and what the images row records of it."""
    if event.get("schema") != "radstream.image.v1":
        raise ValueError(f"unknown schema {event.get('schema')!r}")
    image = Image.open(io.BytesIO(base64.b64decode(event["inline"], validate=True)))
    described = {"format": (image.format or "unknown").lower(), "width": image.width, "height": image.height,
                 "bit_depth": 16 if image.mode.startswith("I;16") else 8}
    grey = image.convert("L")
    if grey.size != (side, side):
        grey = grey.resize((side, side), Image.BILINEAR)
    array = (np.asarray(grey, dtype=np.float32) / 255 - mean) / deviation
    return array, described


IMAGE_ROW = """
    WITH image AS (
        INSERT INTO images (topic, kafka_partition, kafka_offset, event_id, study_id, image_id, source, format,
                            width, height, source_bit_depth, labels)
        VALUES (%s, %s, %s, %s, %s, %s, 'inline', %s, %s, %s, %s, %s::jsonb)
        ON CONFLICT DO NOTHING RETURNING id)
    INSERT INTO image_predictions (image_id, model, model_version, probabilities, decision, saliency_png)
    SELECT id, %s, %s, %s::jsonb, %s, ''::bytea FROM image
"""
DEAD_LETTER = """
    INSERT INTO dead_letters (topic, kafka_partition, kafka_offset, message_key, payload, payload_sha256,
                              payload_bytes, error_code, error)
    VALUES (%s, %s, %s, %s, %s, %s, %s, 'peer_unreadable', %s) ON CONFLICT DO NOTHING
"""
OFFSET = """
    INSERT INTO consumer_offsets (consumer_group, topic, kafka_partition, next_offset) VALUES (%s, %s, %s, %s)
    ON CONFLICT (consumer_group, topic, kafka_partition)
    DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--postgres", required=True, help="libpq conninfo of a database RadStream migrated")
    parser.add_argument("--weights", required=True, help="a RadStream image classifier's model.safetensors")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    arguments = parser.parse_args()

    torch.set_num_threads(arguments.threads)
    model, settings = load_model(arguments.weights)
    classes, side = settings["classes"], settings["inputSide"]
    mean, deviation = settings["pixelMean"], settings["pixelStandardDeviation"]
    temperature, threshold = settings["temperature"], settings.get("threshold", 0.5)
    database = psycopg.connect(arguments.postgres, autocommit=True)

    def on_assign(consumer, partitions):
        # Offsets live in PostgreSQL beside the results: start each partition where the last
        # committed transaction left it.
        with database.cursor() as cursor:
            cursor.execute("SELECT kafka_partition, next_offset FROM consumer_offsets WHERE consumer_group = %s AND topic = %s",
                           (arguments.group, arguments.topic))
            stored = dict(cursor.fetchall())
        for partition in partitions:
            partition.offset = stored.get(partition.partition, OFFSET_BEGINNING)
        consumer.assign(partitions)
        print(f"assigned {len(partitions)} partitions of {arguments.topic}", file=sys.stderr, flush=True)

    consumer = Consumer({"bootstrap.servers": arguments.bootstrap_servers, "group.id": arguments.group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.subscribe([arguments.topic], on_assign=on_assign)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    while not stopping:
        messages = [m for m in consumer.consume(num_messages=arguments.batch_size, timeout=0.1) if m.error() is None]
        if not messages:
            continue
        readable, arrays, letters = [], [], []
        for message in messages:
            try:
                event = json.loads(message.value())
                array, described = pixels(event, side, mean, deviation)
                readable.append((message, event, described))
                arrays.append(array)
            except Exception as error:  # a bad event is a dead letter, never the end of the stream
                payload = message.value() or b""
                letters.append((message.topic(), message.partition(), message.offset(),
                                (message.key() or b"").decode("utf-8", "replace"), payload,
                                hashlib.sha256(payload).hexdigest(), len(payload), f"{type(error).__name__}: {error}"))
        rows = []
        if arrays:
            batch = torch.from_numpy(np.stack(arrays)[:, None]).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                probabilities = torch.softmax(model(batch) / temperature, dim=1).numpy()
            for (message, event, described), p in zip(readable, probabilities):
                decision = classes[1] if len(classes) == 2 and p[1] >= threshold else classes[int(np.argmax(p))]
                rows.append((message.topic(), message.partition(), message.offset(), event["event_id"], event["study_id"],
                             event["image_id"], described["format"], described["width"], described["height"],
                             described["bit_depth"], json.dumps(event["labels"]) if "labels" in event else None,
                             settings["name"], settings["version"],
                             json.dumps({name: float(value) for name, value in zip(classes, p)}), decision))
        next_offsets = {}
        for message in messages:
            key = (message.topic(), message.partition())
            next_offsets[key] = max(next_offsets.get(key, 0), message.offset() + 1)
        with database.transaction(), database.cursor() as cursor:
            if rows:
                cursor.executemany(IMAGE_ROW, rows)
            if letters:
                cursor.executemany(DEAD_LETTER, letters)
            cursor.executemany(OFFSET, [(arguments.group, topic, partition, offset)
                                        for (topic, partition), offset in next_offsets.items()])
    consumer.close()
    database.close()


if __name__ == "__main__":
    main()
