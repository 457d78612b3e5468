// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestBase} from "./Vm.sol";
import {Binary32} from "../src/dispute/Binary32.sol";
import {Transcendentals} from "../src/dispute/Transcendentals.sol";
import {TensorMerkleHarness} from "../src/dispute/TensorMerkleHarness.sol";
import {ElementwiseProver} from "../src/dispute/ElementwiseProver.sol";
import {ReduceProver} from "../src/dispute/ReduceProver.sol";
import {IndexProver} from "../src/dispute/IndexProver.sol";
import {OptimProver} from "../src/dispute/OptimProver.sol";
import {StepVerifier} from "../src/dispute/StepVerifier.sol";
import {IOpProver} from "../src/dispute/StepOps.sol";

/// @notice The shared test vectors the engine writes (vectors/*.json, `npm run vectors`):
///         the chain must compute the same bits.
contract VectorsTest is TestBase {
    string internal binary32;
    string internal merkle;
    string internal ops;

    error Mismatch(string op, uint256 index, uint256 a, uint256 b, uint256 have, uint256 want);

    function setUp() public {
        binary32 = vm.readFile("../vectors/binary32.json");
        merkle = vm.readFile("../vectors/merkle.json");
        ops = vm.readFile("../vectors/ops.json");
    }

    function check(string memory op) internal view {
        uint256[] memory a = vm.parseJsonUintArray(binary32, string.concat(".", op, ".a"));
        uint256[] memory b = vm.parseJsonUintArray(binary32, string.concat(".", op, ".b"));
        uint256[] memory out = vm.parseJsonUintArray(binary32, string.concat(".", op, ".out"));
        bytes32 name = keccak256(bytes(op));
        for (uint256 i = 0; i < a.length; i++) {
            uint32 x = uint32(a[i]);
            uint32 y = uint32(b[i]);
            uint32 have;
            if (name == keccak256("add")) have = Binary32.add(x, y);
            else if (name == keccak256("sub")) have = Binary32.sub(x, y);
            else if (name == keccak256("mul")) have = Binary32.mul(x, y);
            else if (name == keccak256("div")) have = Binary32.div(x, y);
            else if (name == keccak256("sqrt")) have = Binary32.sqrt(x);
            else if (name == keccak256("exp")) have = Transcendentals.exp(x);
            else have = Transcendentals.log(x);
            if (have != out[i]) revert Mismatch(op, i, a[i], b[i], have, out[i]);
        }
        assertTrue(a.length >= 512, "vectors present");
    }

    function test_binary32_add() public view { check("add"); }
    function test_binary32_sub() public view { check("sub"); }
    function test_binary32_mul() public view { check("mul"); }
    function test_binary32_div() public view { check("div"); }
    function test_binary32_sqrt() public view { check("sqrt"); }
    function test_binary32_exp() public view { check("exp"); }
    function test_binary32_log() public view { check("log"); }

    function test_tensorProofs() public {
        TensorMerkleHarness harness = new TensorMerkleHarness();
        uint256 length = vm.parseJsonUint(merkle, ".length");
        bytes32 root = vm.parseJsonBytes32(merkle, ".root");
        for (uint256 p = 0; p < 5; p++) {
            string memory at = string.concat(".proofs[", _itoa(p), "]");
            uint256 first = vm.parseJsonUint(merkle, string.concat(at, ".firstLeaf"));
            bytes memory words = vm.parseJsonBytes(merkle, string.concat(at, ".words"));
            bytes32[] memory siblings = vm.parseJsonBytes32Array(merkle, string.concat(at, ".siblings"));
            assertTrue(harness.rootFromRange(length, 0, first, words, siblings) == root, "proof recomputes the engine's root");
        }
    }

    error OpMismatch(uint256 index, uint256 code, uint256 have, uint256 want);

    /// @notice Every opcode's element verification: StepVerifier.evaluate on the engine's
    ///         op, element, input roots and openings gives the engine's element.
    function test_opVectors() public {
        StepVerifier verifier = new StepVerifier(
            IOpProver(address(new ElementwiseProver())), IOpProver(address(new ReduceProver())),
            IOpProver(address(new IndexProver())), IOpProver(address(new OptimProver()))
        );
        uint256[] memory codes = vm.parseJsonUintArray(ops, ".codes");
        uint256[] memory expected = vm.parseJsonUintArray(ops, ".expected");
        uint256 seen;
        for (uint256 i = 0; i < codes.length; i++) {
            bytes memory call = vm.parseJsonBytes(ops, string.concat(".cases[", _itoa(i), "].call"));
            (bool ok, bytes memory out) = address(verifier).staticcall(call);
            assertTrue(ok, "evaluate succeeds on the engine's openings");
            uint256 have = abi.decode(out, (uint32));
            if (have != expected[i]) revert OpMismatch(i, codes[i], have, expected[i]);
            seen |= 1 << codes[i];
        }
        // Every code of docs/step-program.md: 1-12, 16-19, 32-38, 48-51.
        assertEq(seen, 0x000F_007F_000F_1FFE, "vectors cover every opcode");
    }

    function _itoa(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        bytes memory digits;
        while (v > 0) {
            digits = abi.encodePacked(bytes1(uint8(48 + v % 10)), digits);
            v /= 10;
        }
        return string(digits);
    }
}
