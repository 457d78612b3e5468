// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title StepOps
/// @notice The types of the step program (docs/step-program.md): an op, its inputs,
///         the openings of its inputs and the context of a dispute.
library StepOps {
    /// @notice Input kinds.
    uint8 internal constant SLOT = 0; // slot `index` of S_t
    uint8 internal constant OP = 1; // output of op `index` of the same step
    uint8 internal constant TOKENS = 2; // the job's tokens stream
    uint8 internal constant CONSTANT = 3; // a program constant with tensor root `root`

    /// @notice Op codes; the group is `code >> 4`.
    uint8 internal constant ADD = 1;
    uint8 internal constant SUB = 2;
    uint8 internal constant MUL = 3;
    uint8 internal constant DIV = 4;
    uint8 internal constant MAX = 5;
    uint8 internal constant CMPGE = 6;
    uint8 internal constant NEG = 7;
    uint8 internal constant EXP = 8;
    uint8 internal constant LOG = 9;
    uint8 internal constant SQRT = 10;
    uint8 internal constant RECIP = 11;
    uint8 internal constant COPY = 12;
    uint8 internal constant SUM = 16;
    uint8 internal constant MAXR = 17;
    uint8 internal constant DOT = 18;
    uint8 internal constant SCATTER = 19;
    uint8 internal constant ARGMAX = 20;
    uint8 internal constant GATHER = 32;
    uint8 internal constant WINDOW = 33;
    uint8 internal constant ONEHOT = 34;
    uint8 internal constant ROPE = 35;
    uint8 internal constant CONCAT = 36;
    uint8 internal constant UNIFORM = 37;
    uint8 internal constant FILL = 38;
    uint8 internal constant CLIP = 48;
    uint8 internal constant ADAM_M = 49;
    uint8 internal constant ADAM_V = 50;
    uint8 internal constant ADAM_P = 51;
    uint8 internal constant WEIGHT = 64;
    uint8 internal constant RANK = 65;
    uint8 internal constant SCAN = 66;
    uint8 internal constant KEEP = 67;
    uint8 internal constant UNIFORM_AT = 68;
    uint8 internal constant FINDFIRST = 69;

    struct OpInput {
        uint8 kind;
        uint32 index;
        bytes32 root;
    }

    /// @notice One op of a program; its leaf in the program's tree is keccak256(abi.encode(op)).
    struct Op {
        uint8 code;
        uint8 dtype; // of the output: 0 f32, 1 i32
        uint32[] dims; // output shape, row-major
        OpInput[] inputs;
        uint32[] attrs;
    }

    /// @notice A range proof of one input (TensorMerkle.rootFromRange).
    struct Opening {
        uint256 length;
        uint8 dtype;
        uint256 firstLeaf;
        bytes words; // 4 bytes per element, big-endian, whole leaves
        bytes32[] siblings;
    }

    /// @notice What an element program may read besides its inputs.
    struct Context {
        uint64 seed;
        uint32 step;
    }
}

/// @notice Computes one output element of one op from openings of its inputs.
interface IOpProver {
    /// @param inputRoots The tensor root of every input of `op`, already bound by the caller.
    /// @param openings `openings[i]` proves the elements of input i the element reads.
    /// @return value The element's binary32 (or i32) bit pattern, NaN canonical (0x7fc00000).
    function evaluate(
        StepOps.Op calldata op,
        uint256 element,
        StepOps.Context calldata ctx,
        bytes32[] calldata inputRoots,
        StepOps.Opening[] calldata openings
    ) external view returns (uint32 value);
}
