print("cwsim")
