// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Binary32 as F} from "./Binary32.sol";
import {Openings} from "./Openings.sol";
import {Random32} from "./Random32.sol";

/// @title IndexProver
/// @notice Group 2 of the step program (docs/step-program.md): GATHER (embedding rows),
///         WINDOW (the batch's token windows), ONEHOT, ROPE (rotary embedding), CONCAT
///         (scalars into a vector), UNIFORM (initial values) and FILL.
contract IndexProver is IOpProver {
    uint32 internal constant ONE = 0x3f800000;
    uint32 internal constant TWO = 0x40000000;

    /// @notice Output element `element` of `op` from the openings of its inputs.
    /// @dev Requirements: `element` < product(op.dims); attrs GATHER [rows, d], WINDOW
    ///      [batch, width, offset, window], ONEHOT [vocab], ROPE [dh, T], UNIFORM
    ///      [slot, a], FILL [value]; every input read is opened against its root and
    ///      covers the elements read (CONCAT reads element 0 of input `element` only).
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata ctx,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32) {
        Openings.checkElement(op.dims, element);
        uint8 code = op.code;
        if (code == StepOps.GATHER) return _gather(op, element, inputRoots, openings);
        if (code == StepOps.WINDOW) return _window(op, element, ctx, inputRoots, openings);
        if (code == StepOps.ONEHOT) return _onehot(op, element, inputRoots, openings);
        if (code == StepOps.ROPE) return _rope(op, element, inputRoots, openings);
        if (code == StepOps.CONCAT) return Openings.read(inputRoots, openings, element, 0);
        if (code == StepOps.UNIFORM) return _uniform(op, element, ctx.seed);
        if (code == StepOps.FILL) return Openings.attrs(op, 1)[0];
        revert Openings.UnknownOp(code);
    }

    /// @dev 1.0 where targets[e / vocab] = e mod vocab.
    function _onehot(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 vocab = Openings.nonZero(op.code, Openings.attrs(op, 1), 0);
        int256 target = Openings.i32(Openings.read(roots, openings, 0, e / vocab));
        return target == int256(e % vocab) ? ONE : 0;
    }

    /// @dev (2u − 1)·a, u = uniform(seed, INIT_BASE + slot, e): the engine's initial values.
    function _uniform(StepOps.Op calldata op, uint256 e, uint64 seed) private pure returns (uint32) {
        uint32[] calldata a = Openings.attrs(op, 2);
        uint32 purpose;
        // The key words are uint32 and wrap, as the engine's do (index >>> 0, xor).
        unchecked {
            purpose = Random32.INIT_BASE + a[0];
        }
        uint32 u = Random32.uniform(seed, purpose, uint32(e));
        return F.mul(F.sub(F.mul(u, TWO), ONE), a[1]);
    }

    /// @dev table[idx[e / d]·d + e mod d]; an index outside [0, rows) reverts.
    function _gather(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 d = Openings.nonZero(op.code, Openings.attrs(op, 2), 1);
        uint256 pos = e / d;
        int256 row = Openings.i32(Openings.read(roots, openings, 1, pos));
        uint256 rows = op.attrs[0];
        if (row < 0 || uint256(row) >= rows) revert Openings.IndexOutOfRange(row, rows);
        pos = uint256(row) * d + e % d;
        return Openings.read(roots, openings, 0, pos);
    }

    /// @dev (row, col) = (e / width, e mod width); the row's window starts at
    ///      random32(seed, DATA, t·batch + row) mod (len tokens − window).
    function _window(
        StepOps.Op calldata op,
        uint256 e,
        StepOps.Context calldata ctx,
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings
    ) private pure returns (uint32) {
        uint32[] calldata a = Openings.attrs(op, 4);
        uint256 width = Openings.nonZero(op.code, a, 1);
        StepOps.Opening calldata tokens = Openings.verified(roots, openings, 0);
        if (tokens.length <= a[3]) revert Openings.NoWindow(tokens.length, a[3]);
        // The engine keys the stream by (t·batch + row) >>> 0: the low 32 bits.
        uint32 index = uint32(uint256(ctx.step) * a[0] + e / width);
        uint256 start = Random32.random32(ctx.seed, Random32.DATA, index) % (tokens.length - a[3]);
        uint256 pos = start + a[2] + e % width;
        return Openings.word(Openings.range(tokens, 0, pos, pos), 0);
    }

    /// @dev Rotates pairs (x[e], x[e ± h]) of each head row by the angle of the row's
    ///      position: j = e mod dh, h = dh/2, pos = (e / dh) mod T; the pair is read
    ///      through one opening of x.
    function _rope(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        (uint256 angle, uint256 first, uint256 h) = _ropeAt(op, e);
        uint256 cs =
            (uint256(Openings.read(roots, openings, 1, angle)) << 32) | Openings.read(roots, openings, 2, angle);
        return _rotate(Openings.open(roots, openings, 0, first, first + h), h, first == e, cs);
    }

    /// @dev The cos/sin element of e (pos·h + j mod h), the first element of its pair and h.
    function _ropeAt(StepOps.Op calldata op, uint256 e) private pure returns (uint256 angle, uint256 first, uint256 h) {
        uint32[] calldata a = Openings.attrs(op, 2);
        uint256 dh = a[0];
        h = dh / 2;
        if (h == 0) revert Openings.ZeroAttr(op.code, 0);
        uint256 j = e % dh;
        angle = ((e / dh) % Openings.nonZero(op.code, a, 1)) * h + j % h;
        first = j < h ? e : e - h;
    }

    /// @dev x holds x[first .. first + h]; cs = cos << 32 | sin. For j < h, e = first:
    ///      x[e]·c − x[e+h]·s; otherwise e = first + h: x[e]·c + x[e−h]·s.
    function _rotate(bytes calldata x, uint256 h, bool low, uint256 cs) private pure returns (uint32) {
        uint32 c = uint32(cs >> 32);
        uint32 s = uint32(cs);
        if (low) return F.sub(F.mul(Openings.word(x, 0), c), F.mul(Openings.word(x, h), s));
        return F.add(F.mul(Openings.word(x, h), c), F.mul(Openings.word(x, 0), s));
    }
}
