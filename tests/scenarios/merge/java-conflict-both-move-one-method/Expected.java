package shop;

class Numbers {
<<<<<<< left
||||||| base
=======
    int gamma() {
        return 33;
    }
>>>>>>> right

    int alpha() {
        return 1;
    }

    int beta() {
        return 2;
    }

    int delta() {
        return 4;
    }

    int epsilon() {
        return 5;
    }
<<<<<<< left
    int gamma() {
        return 33;
    }
||||||| base
=======
>>>>>>> right

    int zeta() {
        return 6;
    }
}
