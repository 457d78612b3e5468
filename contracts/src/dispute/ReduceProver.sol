// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Binary32 as F} from "./Binary32.sol";
import {Binary32Folds as Folds} from "./Binary32Folds.sol";
import {Openings} from "./Openings.sol";

/// @title ReduceProver
/// @notice Group 1 of the step program (docs/step-program.md): SUM and MAXR over a run
///         of n elements, DOT (one element of a batched matmul, k terms) and SCATTER
///         (the gradient of a gather: a sum over the positions that gathered one row),
///         ARGMAX (the greedy pick of a generated token: the first index of a row's
///         largest value). Every accumulation starts from its identity and runs in
///         increasing index order.
contract ReduceProver is IOpProver {
    uint32 internal constant NEG_INF = 0xff800000;

    /// @notice Output element `element` of `op` from the openings of its inputs.
    /// @dev Requirements: `element` < product(op.dims); attrs SUM/MAXR [n], DOT
    ///      [m, n, k, bBatched], SCATTER [rows, P] with dims [rows, D], ARGMAX [n, row]
    ///      with n > 0; every input read
    ///      is opened against its root and covers the elements read.
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32) {
        Openings.checkElement(op.dims, element);
        uint8 code = op.code;
        if (code == StepOps.SUM || code == StepOps.MAXR) return _reduce(op, element, inputRoots, openings);
        if (code == StepOps.DOT) return _dot(op, element, inputRoots, openings);
        if (code == StepOps.SCATTER) return _scatter(op, element, inputRoots, openings);
        if (code == StepOps.ARGMAX) return _argmax(op, element, inputRoots, openings);
        revert Openings.UnknownOp(code);
    }

    /// @dev acc over a[e·n .. min(e·n + n, len a)); the opening proves len a even when
    ///      the run is empty.
    function _reduce(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32 acc)
    {
        uint256 n = Openings.attrs(op, 1)[0];
        bool isSum = op.code == StepOps.SUM;
        acc = isSum ? 0 : NEG_INF;
        StepOps.Opening calldata a = Openings.verified(roots, openings, 0);
        uint256 first = e * n;
        uint256 end = first + n;
        if (end > a.length) end = a.length;
        if (first >= end) return acc;
        bytes calldata w = Openings.range(a, 0, first, end - 1);
        return isSum ? Folds.sum(w) : Folds.maxFold(w); // straight over the opening's calldata
    }

    /// @dev (b, i, j) = (e / mn, e / n mod m, e mod n): row (b·m + i) of A times row
    ///      (b'·n + j) of B (B holds Bᵀ), k terms each, b' = bBatched ? b : 0.
    function _dot(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        (uint256 rowA, uint256 rowB, uint256 k) = _dotRows(op, e);
        if (k == 0) return 0; // no terms: +0, nothing read
        bytes calldata x = Openings.open(roots, openings, 0, rowA, rowA + k - 1);
        return _dotWith(x, roots, openings, rowB, rowB + k - 1);
    }

    /// @dev The first elements of e's rows in A and B, and k; attrs [m, n, k, bBatched].
    function _dotRows(StepOps.Op calldata op, uint256 e) private pure returns (uint256 rowA, uint256 rowB, uint256 k) {
        uint32[] calldata a = Openings.attrs(op, 4);
        uint256 m = Openings.nonZero(op.code, a, 0);
        uint256 n = Openings.nonZero(op.code, a, 1);
        k = a[2];
        uint256 b = e / (m * n);
        rowA = (b * m + (e / n) % m) * k;
        rowB = ((a[3] != 0 ? b : 0) * n + e % n) * k;
    }

    /// @dev x · B[first .. last]: Binary32Folds.dot straight over the two calldata slices.
    function _dotWith(
        bytes calldata x,
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings,
        uint256 first,
        uint256 last
    ) private pure returns (uint32) {
        return Folds.dot(x, Openings.open(roots, openings, 1, first, last));
    }

    /// @dev (r, d) = (e / D, e mod D): Σ over p with idx[p] = r of gT[d·P + p]. gT is
    ///      read only where idx matches; its opening covers those (if none, it is unread).
    function _scatter(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 p = Openings.attrs(op, 2)[1];
        if (op.dims.length != 2) revert Openings.WrongRank(op.code, op.dims.length, 2);
        uint256 depth = op.dims[1];
        if (p == 0) return 0;
        bytes calldata idx = Openings.open(roots, openings, 1, 0, p - 1);
        return _scatterRow(idx, e / depth, (e % depth) * p, roots, openings);
    }

    /// @dev Σ over p with idx[p] = r of gT[row + p].
    function _scatterRow(
        bytes calldata idx,
        uint256 r,
        uint256 row,
        bytes32[] calldata roots,
        StepOps.Opening[] calldata openings
    ) private pure returns (uint32) {
        (uint256 lo, uint256 n) = _span(idx, r);
        if (n == 0) return 0;
        idx = idx[lo * 4:(lo + n) * 4];
        row += lo; // the first gT element read
        n = row + n - 1; // the last
        bytes calldata g = Openings.open(roots, openings, 0, row, n);
        return _sumWhere(idx, r, g);
    }

    /// @dev The positions [lo, lo + n) from the first to the last whose i32 index is r
    ///      (n = 0 when none).
    function _span(bytes calldata idx, uint256 r) private pure returns (uint256 lo, uint256 n) {
        if (r > uint256(uint32(type(int32).max))) return (0, 0); // no i32 equals r
        uint256 end = idx.length;
        // Cannot overflow: offsets stay below idx.length, a calldata length.
        unchecked {
            for (uint256 off = 0; off < end; off += 4) {
                uint256 x;
                assembly {
                    x := shr(224, calldataload(add(idx.offset, off)))
                }
                if (x == r) {
                    if (n == 0) lo = off / 4;
                    n = off / 4 - lo + 1;
                }
            }
        }
    }

    /// @dev Σ from +0 of word q of g over the q where word q of idx is r (r < 2^31);
    ///      idx and g have the same length.
    function _sumWhere(bytes calldata idx, uint256 r, bytes calldata g) private pure returns (uint32 acc) {
        uint256 end = idx.length;
        // Cannot overflow: offsets stay below idx.length, a calldata length.
        unchecked {
            for (uint256 off = 0; off < end; off += 4) {
                uint256 x;
                uint32 y;
                assembly {
                    x := shr(224, calldataload(add(idx.offset, off)))
                    y := shr(224, calldataload(add(g.offset, off)))
                }
                if (x == r) acc = F.add(acc, y);
            }
        }
    }

    /// @dev The index in [0, n) of the greatest of a[(row + e)·n .. (row + e)·n + n):
    ///      a word replaces the best only if it compares greater (Binary32.gt: false with
    ///      a NaN, −0 equal to +0), so ties keep the lower index, a NaN never wins and
    ///      one at index 0 is kept, as the engine's greedy pick.
    function _argmax(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32 best)
    {
        uint32[] calldata a = Openings.attrs(op, 2);
        uint256 n = Openings.nonZero(op.code, a, 0);
        uint256 first = (uint256(a[1]) + e) * n;
        bytes calldata w = Openings.open(roots, openings, 0, first, first + n - 1);
        uint32 value = Openings.word(w, 0);
        // Cannot overflow: i < n ≤ w.length / 4, a calldata length; best < n < 2^32 (an attr).
        unchecked {
            for (uint256 i = 1; i < n; i++) {
                uint32 x = Openings.word(w, i);
                if (F.gt(x, value)) {
                    best = uint32(i);
                    value = x;
                }
            }
        }
    }
}
