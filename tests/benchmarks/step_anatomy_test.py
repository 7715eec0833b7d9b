"""The step-anatomy benchmark's reading of a profile (benchmarks/step_anatomy.py):
op events are grouped by op type and divided by the profiled steps; the
executor's spans and function-call ops, which contain other ops, and threads
that run no ops are left out."""
import pytest

from benchmarks import step_anatomy

xplane_pb2 = pytest.importorskip("tensorflow.tsl.profiler.protobuf.xplane_pb2",
                                 reason="this TensorFlow has no tensorflow.tsl.profiler.protobuf")


def _space(events_by_line):
    space = xplane_pb2.XSpace()
    plane = space.planes.add(name="/host:CPU")
    ids = {}
    for line_name, events in events_by_line.items():
        line = plane.lines.add(name=line_name)
        for name, ms in events:
            if name not in ids:
                ids[name] = len(ids) + 1
                plane.event_metadata[ids[name]].name = name
            line.events.add(metadata_id=ids[name], duration_ps=int(ms * 1e9))
    return space


def test_op_time_is_grouped_by_type_per_step_without_containers(tmp_path):
    space = _space({
        "tf_Compute/1": [("ExecutorState::Process", 900.0),  # contains the ops below: not counted
                         ("model/dense/MatMul:_MklMatMul", 30.0), ("model/gelu/mul:Mul", 6.0),
                         ("model/call:StatefulPartitionedCall", 50.0), ("ParallelFor", 20.0)],
        "tf_Compute/2": [("gradient_tape/model/dense/MatMul:_MklMatMul", 10.0), ("model/dense/Cast:Cast", 4.0)],
        "python": [("model/dense/MatMul:_MklMatMul", 500.0)],  # not a thread that runs ops
    })
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "host.xplane.pb").write_bytes(space.SerializeToString())
    ops = step_anatomy._op_times(str(tmp_path), steps=2)
    assert ops == pytest.approx({"_MklMatMul": 20.0, "Mul": 3.0, "Cast": 2.0})
