// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Binary32 as F} from "./Binary32.sol";
import {Openings} from "./Openings.sol";

/// @title OptimProver
/// @notice Group 3 of the step program (docs/step-program.md): the gradient clip factor
///         and the three AdamW updates (packages/engine/src/train/optim.ts, in its order of
///         operations).
contract OptimProver is IOpProver {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TINY = 0x358637bd; // Math.fround(1e-6)

    /// @notice Output element `element` of `op` from the openings of its inputs.
    /// @dev Requirements: `element` < product(op.dims); attrs CLIP [clip], ADAM_M
    ///      [β1, 1−β1], ADAM_V [β2, 1−β2], ADAM_P [eps, wd, decay]; every input read is
    ///      opened against its root and covers the elements read. ADAM_P reads elements
    ///      3t, 3t+1, 3t+2 (lr, c1, c2) of its schedule, t = ctx.step.
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata ctx,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32) {
        Openings.checkElement(op.dims, element);
        uint8 code = op.code;
        if (code == StepOps.CLIP) return _clip(op, inputRoots, openings);
        if (code == StepOps.ADAM_M || code == StepOps.ADAM_V) return _moment(op, element, inputRoots, openings);
        if (code == StepOps.ADAM_P) return _param(op, element, ctx.step, inputRoots, openings);
        revert Openings.UnknownOp(code);
    }

    /// @dev min(1, clip / (sqrt(sumsq) + 1e-6)); clip 0 turns clipping off (sumsq unread).
    function _clip(StepOps.Op calldata op, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint32 clip = Openings.attrs(op, 1)[0];
        if (F.isZero(clip)) return ONE;
        uint32 norm = F.sqrt(Openings.read(roots, openings, 0, 0));
        uint32 s = F.div(clip, F.add(norm, TINY));
        return F.lt(s, ONE) ? s : ONE; // NaN compares false: 1
    }

    /// @dev g = grad·scale; m' = β1·m + (1−β1)·g, v' = β2·v + ((1−β2)·g)·g.
    function _moment(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint32 g = F.mul(Openings.read(roots, openings, 0, e), Openings.read(roots, openings, 2, 0));
        uint32 prev = Openings.read(roots, openings, 1, e);
        uint32[] calldata a = Openings.attrs(op, 2);
        prev = F.mul(a[0], prev);
        if (op.code == StepOps.ADAM_M) return F.add(prev, F.mul(a[1], g));
        return F.add(prev, F.mul(F.mul(a[1], g), g));
    }

    /// @dev u = (m'/c1) / (sqrt(v'/c2) + eps) (+ wd·p when decayed); p' = p − lr·u.
    function _param(
        StepOps.Op calldata op,
        uint256 e,
        uint256 step,
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings
    ) private pure returns (uint32) {
        uint256 sched = _schedule(roots, openings, step);
        uint256 pmv = _state(roots, openings, e);
        return _update(Openings.attrs(op, 3), sched, pmv);
    }

    /// @dev (p[e], m'[e], v'[e]) packed p << 64 | m' << 32 | v'.
    function _state(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 e)
        private
        pure
        returns (uint256)
    {
        uint256 p = Openings.read(roots, openings, 0, e);
        uint256 m = Openings.read(roots, openings, 1, e);
        return (p << 64) | (m << 32) | Openings.read(roots, openings, 2, e);
    }

    /// @dev attrs (eps, wd, decay), sched (lr, c1, c2) and state (p, m', v') packed.
    function _update(uint32[] calldata a, uint256 sched, uint256 state) private pure returns (uint32) {
        uint32 p = uint32(state >> 64);
        uint32 m = F.div(uint32(state >> 32), uint32(sched >> 32));
        uint32 v = F.div(uint32(state), uint32(sched));
        uint32 u = F.div(m, F.add(F.sqrt(v), a[0]));
        if (a[2] != 0) u = F.add(u, F.mul(a[1], p));
        return F.sub(p, F.mul(uint32(sched >> 64), u));
    }

    /// @dev schedule[3t .. 3t+3) = (lr, c1, c2), packed lr << 64 | c1 << 32 | c2.
    function _schedule(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 step)
        private
        pure
        returns (uint256)
    {
        bytes calldata w = Openings.open(roots, openings, 3, 3 * step, 3 * step + 2);
        return (uint256(Openings.word(w, 0)) << 64) | (uint256(Openings.word(w, 1)) << 32) | Openings.word(w, 2);
    }
}
