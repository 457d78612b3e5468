// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Binary32 as F} from "./Binary32.sol";
import {Binary32Folds as Folds} from "./Binary32Folds.sol";
import {Transcendentals} from "./Transcendentals.sol";
import {Random32} from "./Random32.sol";
import {Openings} from "./Openings.sol";

/// @title SamplingProver
/// @notice Group 4 of the step program: the sampling ops that end the forward program of
///         a sampled answer (docs/inference.md, "Sampled answers";
///         packages/protocol/src/samplingElements.ts): WEIGHT, RANK, SCAN, KEEP,
///         UNIFORM_AT, FINDFIRST. Composed, they are the engine's seeded pick
///         (packages/engine/src/infer/sample.ts), bit for bit. The sampling parameters are
///         words of the tokens input (temperature bits, top-k, top-p bits); the seed and the
///         token's index are the context.
contract SamplingProver is IOpProver {
    /// @notice Output element `element` of `op` from the openings of its inputs.
    /// @dev Requirements: `element` < product(op.dims); attrs WEIGHT [n, row, at], RANK
    ///      [n, row], SCAN [n], KEEP [n, at], UNIFORM_AT [purpose], FINDFIRST [n], with
    ///      n > 0; every input read is opened against its root and covers what is read.
    ///      Reverts Openings.IndexOutOfRange for a WEIGHT whose argmax is outside the row.
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata ctx,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32) {
        Openings.checkElement(op.dims, element);
        uint8 code = op.code;
        if (code == StepOps.WEIGHT) return _weight(op, element, inputRoots, openings);
        if (code == StepOps.RANK) return _rank(op, element, inputRoots, openings);
        if (code == StepOps.SCAN) return _scan(op, element, inputRoots, openings);
        if (code == StepOps.KEEP) return _keep(op, element, inputRoots, openings);
        if (code == StepOps.UNIFORM_AT) return _uniformAt(op, element, ctx);
        if (code == StepOps.FINDFIRST) return _findFirst(op, element, inputRoots, openings);
        revert Openings.UnknownOp(code);
    }

    /// @dev uniform(seed, purpose, step + e) of the context: the counter wraps at 2^32
    ///      (uint32 truncation), as the engine's `>>> 0` does.
    function _uniformAt(StepOps.Op calldata op, uint256 e, StepOps.Context calldata ctx) private pure returns (uint32) {
        return Random32.uniform(ctx.seed, Openings.attrs(op, 1)[0], uint32(uint256(ctx.step) + e));
    }

    /// @dev exp((x[i] − x[best]) / t) over row (row + e / n) of x, best = argmax[e / n],
    ///      t the binary32 of params[at].
    function _weight(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint32 t = Openings.read(roots, openings, 2, Openings.attrs(op, 3)[2]);
        uint256 n = Openings.nonZero(op.code, op.attrs, 0);
        uint256 best = _argmaxOf(roots, openings, e / n, n);
        uint256 first = (uint256(op.attrs[1]) + e / n) * n;
        return _expDiff(roots, openings, first + e % n, first + best, t);
    }

    /// @dev Element r of input 1, an index that must be in [0, n).
    function _argmaxOf(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 r, uint256 n)
        private
        pure
        returns (uint256)
    {
        int256 best = Openings.i32(Openings.read(roots, openings, 1, r));
        if (best < 0 || best >= int256(n)) revert Openings.IndexOutOfRange(best, n);
        return uint256(best);
    }

    /// @dev exp((x[i] − x[b]) / t), x input 0 opened once over both.
    function _expDiff(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 i, uint256 b, uint32 t)
        private
        pure
        returns (uint32)
    {
        uint256 lo = i < b ? i : b;
        bytes calldata x = Openings.open(roots, openings, 0, lo, i < b ? b : i);
        return Transcendentals.exp(F.div(F.sub(Openings.word(x, i - lo), Openings.word(x, b - lo)), t));
    }

    /// @dev How many of the row come before x[i] in likelihood order: greater first, a NaN
    ///      after every number, ties (−0 = +0, NaN = NaN) to the lower index.
    function _rank(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 n = Openings.nonZero(op.code, Openings.attrs(op, 2), 0);
        uint256 first = (uint256(op.attrs[1]) + e / n) * n;
        bytes calldata x = Openings.open(roots, openings, 0, first, first + n - 1);
        return _countBefore(x, e % n);
    }

    /// @dev How many words of x come before word i.
    function _countBefore(bytes calldata x, uint256 i) private pure returns (uint32 count) {
        uint256 n = x.length / 4;
        uint32 xi = Openings.word(x, i);
        bool nan = F.isNaN(xi);
        // Cannot overflow: j < n, a calldata length / 4; count <= n < 2^32 (an attr).
        unchecked {
            for (uint256 j = 0; j < n; j++) {
                uint32 xj = Openings.word(x, j);
                if (nan ? (!F.isNaN(xj) || j < i) : (F.gt(xj, xi) || (j < i && F.eq(xj, xi)))) count++;
            }
        }
    }

    /// @dev acc from +0 over a[(e / n)·n .. e], in index order.
    function _scan(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 n = Openings.nonZero(op.code, Openings.attrs(op, 1), 0);
        return Folds.sum(Openings.open(roots, openings, 0, (e / n) * n, e));
    }

    /// @dev w[e] if rank[e] < the count top-k and top-p keep, else +0. Inputs: running
    ///      weights in likelihood order, ranks, weights, params (top-k at `at`, top-p bits
    ///      after it).
    function _keep(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint256 cut = _keptCount(op, e, roots, openings);
        if (Openings.i32(Openings.read(roots, openings, 1, e)) >= int256(cut)) return 0;
        return Openings.read(roots, openings, 2, e);
    }

    /// @dev How many tokens in likelihood order top-k and top-p keep (one row of n = attr 0).
    function _keptCount(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint256)
    {
        uint256 n = Openings.nonZero(op.code, Openings.attrs(op, 2), 0);
        if (e >= n) revert Openings.ElementPastEnd(e, n);
        (uint256 k, uint32 topPBits) = _params(roots, openings, op.attrs[1], n);
        if (topPBits == 0) return k;
        bytes calldata s = Openings.open(roots, openings, 0, 0, k - 1);
        return _nucleus(s, topPBits);
    }

    /// @dev top-k (n when 0 or past n) and top-p's bits, words at and at + 1 of input 3.
    function _params(bytes32[] calldata roots, StepOps.Opening[] calldata openings, uint256 at, uint256 n)
        private
        pure
        returns (uint256 k, uint32 topPBits)
    {
        bytes calldata params = Openings.open(roots, openings, 3, at, at + 1);
        k = Openings.word(params, 0);
        if (k == 0 || k > n) k = n;
        topPBits = Openings.word(params, 1);
    }

    /// @dev The first q whose running weight s[q] reaches p × s[last], plus one, else all.
    function _nucleus(bytes calldata s, uint32 topPBits) private pure returns (uint256) {
        uint256 k = s.length / 4;
        uint32 target = F.mul(topPBits, Openings.word(s, k - 1));
        // Cannot overflow: q < k, a calldata length / 4.
        unchecked {
            for (uint256 q = 0; q < k; q++) {
                if (F.ge(Openings.word(s, q), target)) return q + 1;
            }
        }
        return k;
    }

    /// @dev The first i in [0, n) with c[e·n + i] > u[e] × c[e·n + n − 1], else fallback[e].
    function _findFirst(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        // Scoped so that e is shallow again for the fallback's read (stack depth).
        {
            uint32 u = Openings.read(roots, openings, 1, e);
            uint256 n = Openings.nonZero(op.code, Openings.attrs(op, 1), 0);
            uint256 i = _firstAbove(Openings.verified(roots, openings, 0), e * n, n, u);
            if (i < n) return uint32(i);
        }
        return Openings.read(roots, openings, 2, e);
    }

    /// @dev The first k < n with a[first + k] > u × a[first + n − 1], else n.
    function _firstAbove(StepOps.Opening calldata a, uint256 first, uint256 n, uint32 u) private pure returns (uint256) {
        bytes calldata c = Openings.range(a, 0, first, first + n - 1);
        uint32 target = F.mul(u, Openings.word(c, n - 1));
        // Cannot overflow: k < n, an attr.
        unchecked {
            for (uint256 k = 0; k < n; k++) {
                if (F.gt(Openings.word(c, k), target)) return k;
            }
        }
        return n;
    }
}
