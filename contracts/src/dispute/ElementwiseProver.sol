// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {StepOps, IOpProver} from "./StepOps.sol";
import {Binary32 as F} from "./Binary32.sol";
import {Transcendentals as T} from "./Transcendentals.sol";
import {Openings} from "./Openings.sol";

/// @title ElementwiseProver
/// @notice Group 0 of the step program (docs/step-program.md): the binary ops ADD SUB MUL
///         DIV MAX CMPGE over strided inputs, the unary ops NEG EXP LOG SQRT RECIP, and
///         COPY (a strided read: permute, expand).
contract ElementwiseProver is IOpProver {
    uint32 internal constant ONE = 0x3f800000;

    /// @notice Output element `element` of `op` from the openings of its inputs.
    /// @dev Requirements: `element` < product(op.dims); binary ops have 2·rank attrs
    ///      (strides of a, then of b), COPY rank; every input read is opened against its
    ///      root and covers the element read.
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external pure override returns (uint32) {
        Openings.checkElement(op.dims, element);
        uint8 code = op.code;
        if (code >= StepOps.ADD && code <= StepOps.CMPGE) return _binary(op, element, inputRoots, openings);
        if (code >= StepOps.NEG && code <= StepOps.RECIP) {
            return _unary(code, Openings.read(inputRoots, openings, 0, element));
        }
        if (code == StepOps.COPY) return _copy(op, element, inputRoots, openings);
        revert Openings.UnknownOp(code);
    }

    /// @dev a[Σ idx_d·s_d], attrs s.
    function _copy(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        uint32[] calldata dims = op.dims;
        uint32[] calldata strides = Openings.attrs(op, dims.length);
        uint256 pos = 0;
        for (uint256 d = dims.length; d > 0; d--) {
            uint256 size = dims[d - 1];
            pos += (e % size) * strides[d - 1];
            e /= size;
        }
        return Openings.read(roots, openings, 0, pos);
    }

    /// @dev a[Σ idx_d·sa_d] op b[Σ idx_d·sb_d], attrs (sa, sb).
    function _binary(StepOps.Op calldata op, uint256 e, bytes32[] calldata roots, StepOps.Opening[] calldata openings)
        private
        pure
        returns (uint32)
    {
        (uint256 ia, uint256 ib) = _offsets(op, e);
        uint32 a = Openings.read(roots, openings, 0, ia);
        uint32 b = Openings.read(roots, openings, 1, ib);
        return _apply(op.code, a, b);
    }

    /// @dev The offsets in a and b of `element`: strides of a are attrs [0, rank), of b
    ///      [rank, 2·rank).
    function _offsets(StepOps.Op calldata op, uint256 element) private pure returns (uint256 ia, uint256 ib) {
        uint32[] calldata dims = op.dims;
        uint256 rank = dims.length;
        uint32[] calldata strides = Openings.attrs(op, 2 * rank);
        for (uint256 d = rank; d > 0; d--) {
            uint256 size = dims[d - 1];
            uint256 i = element % size;
            ia += i * strides[d - 1];
            ib += i * strides[rank + d - 1];
            element /= size;
        }
    }

    function _apply(uint8 code, uint32 a, uint32 b) private pure returns (uint32) {
        if (code == StepOps.ADD) return F.add(a, b);
        if (code == StepOps.SUB) return F.sub(a, b);
        if (code == StepOps.MUL) return F.mul(a, b);
        if (code == StepOps.DIV) return F.div(a, b);
        if (code == StepOps.MAX) return F.max(a, b);
        return F.ge(a, b) ? ONE : 0; // CMPGE
    }

    function _unary(uint8 code, uint32 a) private pure returns (uint32) {
        if (code == StepOps.NEG) return F.neg(a);
        if (code == StepOps.EXP) return T.exp(a);
        if (code == StepOps.LOG) return T.log(a);
        if (code == StepOps.SQRT) return F.sqrt(a);
        return F.div(ONE, a); // RECIP
    }
}
